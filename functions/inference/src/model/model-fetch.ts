import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";

/** The slice of `@maas/storage`'s ObjectStore the fetch needs: stream one object by key. */
export interface ObjectReader {
  getStream(key: string): Promise<Readable>;
}

export interface FetchModelOptions {
  /** A local file, used in place (no copy). */
  path?: string;
  /** `file:///…` (in place) or `s3://bucket/key` (streamed into the cache). */
  uri?: string;
  cacheDir: string;
  /** Expected lower-case hex sha256; a mismatch fails the fetch (and leaves no cached file). */
  sha256?: string;
  /** Opens an s3:// object; the bucket is the store's (one bucket per platform). */
  objects?: ObjectReader;
}

export interface FetchedModel {
  path: string;
  bytes: number;
  /** True when nothing was downloaded (a local file, or already in the cache). */
  cached: boolean;
  sha256?: string;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

async function verify(path: string, expected: string | undefined): Promise<string | undefined> {
  if (!expected) return undefined;
  const actual = await sha256File(path);
  if (actual !== expected.toLowerCase()) {
    throw new Error(`model ${path}: sha256 ${actual} does not match the expected ${expected}`);
  }
  return actual;
}

/**
 * Puts the model file on local disk and returns its path. Local files are used where they are; S3
 * objects stream into `cacheDir` through a temp file renamed into place once complete (a crash never
 * leaves a half file under the final name), hashing on the way when a sha256 is expected.
 *
 * @example
 * const { path } = await fetchModel({ uri: "s3://maas-models/tenants/t/models/m/1/fp32.onnx", cacheDir, objects });
 */
export async function fetchModel(options: FetchModelOptions): Promise<FetchedModel> {
  const local = options.path ?? (options.uri?.startsWith("file://") ? fileURLToPath(options.uri) : undefined);
  if (local) {
    const info = await stat(local);
    const sha256 = await verify(local, options.sha256);
    return { path: local, bytes: info.size, cached: true, ...(sha256 ? { sha256 } : {}) };
  }
  const uri = options.uri ?? "";
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`unsupported MODEL_URI "${uri}": expected file:// or s3://bucket/key`);
  if (!options.objects) throw new Error(`MODEL_URI ${uri} needs an object store, and none is configured`);
  const key = match[2]!;
  await mkdir(options.cacheDir, { recursive: true });
  // Content-addressed when the hash is known (versions sharing bytes share the file); else by URI.
  const name = options.sha256?.toLowerCase() ?? createHash("sha256").update(uri).digest("hex");
  const finalPath = join(options.cacheDir, `${name}.onnx`);
  const existing = await stat(finalPath).catch(() => undefined);
  if (existing) {
    return {
      path: finalPath,
      bytes: existing.size,
      cached: true,
      ...(options.sha256 ? { sha256: name } : {}),
    };
  }
  const tmp = `${finalPath}.${process.pid}.${Date.now()}.tmp`;
  const hash = createHash("sha256");
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      done(null, chunk);
    },
  });
  try {
    await pipeline(await options.objects.getStream(key), tap, createWriteStream(tmp));
    const digest = hash.digest("hex");
    if (options.sha256 && digest !== options.sha256.toLowerCase()) {
      throw new Error(`model ${uri}: sha256 ${digest} does not match the expected ${options.sha256}`);
    }
    await rename(tmp, finalPath);
    return { path: finalPath, bytes, cached: false, sha256: digest };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
