import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { AppError } from "@maas/errors";
import { z } from "zod";
import { MeteredStream, toReadable } from "./body.js";
import {
  assertCompletedParts,
  assertExpiry,
  assertKey,
  assertObjectSize,
  assertPartNumber,
  assertPartSize,
  assertPrefix,
  normalizeEtag,
  S3_LIMITS,
} from "./limits.js";
import type {
  Body,
  ByteRange,
  CompletedPart,
  CreateMultipartOptions,
  MultipartUploadInfo,
  ObjectInfo,
  ObjectStore,
  PartInfo,
} from "./object-store.js";

export interface FsObjectStoreConfig {
  /** The folder that holds everything; created when missing. */
  root: string;
}

const uploadManifest = z.object({
  key: z.string(),
  initiated: z.string(),
  contentType: z.string().optional(),
  metadata: z.record(z.string(), z.string()),
});
type UploadManifest = z.infer<typeof uploadManifest>;

const objectMeta = z.object({
  etag: z.string(),
  size: z.number(),
  mtimeMs: z.number(),
  contentType: z.string().optional(),
  metadata: z.record(z.string(), z.string()),
});
type ObjectMeta = z.infer<typeof objectMeta>;

const UPLOAD_ID = /^[A-Za-z0-9_-]{16,64}$/;
/** `00042-<md5>.part`: the etag lives in the name, so one rename makes a part and its etag visible together. */
const PART_FILE = /^(\d{5})-([0-9a-f]{32})\.part$/;
const COPY_BUFFER = 1024 * 1024;

/**
 * The embedded object store: a folder with S3's semantics, so the platform runs with nothing
 * installed and the same contract suite passes against it and against MinIO.
 *
 * Layout under `root`: `objects/<key>` (the data), `.meta/<key>` (etag, size, content type and
 * metadata as JSON), `.uploads/<uploadId>/` (`upload.json` and one `NNNNN-<md5>.part` file per
 * part), `.tmp/` (writes in progress). Objects appear by `rename`, so a reader sees the old or the
 * new object, never half of one; completion streams the parts into one file, never buffering a part.
 *
 * Two keys where one is a folder of the other (`a` and `a/b`) cannot coexist here, unlike S3;
 * the platform's keys (`objectKeys`) never do that.
 *
 * @example
 * const store = new FsObjectStore({ root: ".local/objects" });
 * const { uploadId } = await store.createMultipart("tenants/tnt_1/models/mdl_1/mver_1/original.onnx");
 */
export class FsObjectStore implements ObjectStore {
  readonly kind = "fs" as const;
  private readonly root: string;

  constructor(config: FsObjectStoreConfig) {
    this.root = path.resolve(config.root);
  }

  async createMultipart(key: string, options: CreateMultipartOptions = {}): Promise<{ uploadId: string }> {
    assertKey(key);
    const uploadId = randomBytes(18).toString("base64url");
    const dir = this.uploadDir(uploadId);
    await mkdir(dir, { recursive: true });
    const manifest: UploadManifest = {
      key,
      initiated: new Date().toISOString(),
      metadata: lowerKeys(options.metadata),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    };
    await writeFile(path.join(dir, "upload.json"), JSON.stringify(manifest));
    return { uploadId };
  }

  async presignPart(key: string, uploadId: string, partNumber: number, expiresInSeconds: number) {
    assertKey(key);
    assertPartNumber(partNumber);
    assertExpiry(expiresInSeconds);
    await this.manifest(key, uploadId);
    return null; // a folder has no URL: the API accepts the part and calls uploadPart
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Body,
    contentLength: number,
  ): Promise<{ etag: string; size: number }> {
    assertKey(key);
    assertPartNumber(partNumber);
    assertPartSize(contentLength);
    await this.manifest(key, uploadId);
    const dir = this.uploadDir(uploadId);
    const tmp = path.join(dir, `tmp-${randomBytes(8).toString("hex")}`);
    const metered = new MeteredStream(contentLength);
    try {
      await pipeline(toReadable(body), metered, createWriteStream(tmp, { highWaterMark: COPY_BUFFER }));
      const etag = metered.md5();
      const prefix = partPrefix(partNumber);
      await rename(tmp, path.join(dir, `${prefix}${etag}.part`));
      // A re-uploaded part replaces the old one, as in S3.
      for (const name of await readdir(dir)) {
        if (name.startsWith(prefix) && name !== `${prefix}${etag}.part`)
          await rm(path.join(dir, name), { force: true });
      }
      return { etag, size: metered.bytes };
    } catch (err) {
      await rm(tmp, { force: true });
      if (isNoEntry(err)) throw noSuchUpload(uploadId); // aborted while the part streamed in
      throw err;
    }
  }

  async listParts(key: string, uploadId: string): Promise<PartInfo[]> {
    assertKey(key);
    await this.manifest(key, uploadId);
    return this.parts(uploadId);
  }

  async completeMultipart(
    key: string,
    uploadId: string,
    parts: CompletedPart[],
  ): Promise<{ etag: string; size: number }> {
    assertKey(key);
    assertCompletedParts(parts);
    const manifest = await this.manifest(key, uploadId);
    const stored = new Map((await this.parts(uploadId)).map((p) => [p.partNumber, p]));
    const chosen: PartInfo[] = [];
    for (const [i, part] of parts.entries()) {
      const found = stored.get(part.partNumber);
      if (!found || found.etag !== normalizeEtag(part.etag)) {
        throw new AppError(
          "VALIDATION_FAILED",
          `part ${part.partNumber} was not uploaded or its etag differs`,
          {
            details: { partNumber: part.partNumber },
          },
        );
      }
      if (i < parts.length - 1 && found.size < S3_LIMITS.minPartSize) {
        throw new AppError(
          "VALIDATION_FAILED",
          `part ${part.partNumber} is smaller than ${S3_LIMITS.minPartSize} bytes`,
          {
            details: { partNumber: part.partNumber, size: found.size },
          },
        );
      }
      chosen.push(found);
    }
    const dir = this.uploadDir(uploadId);
    const md5s = createHash("md5");
    const tmp = await this.tmpFile();
    let size = 0;
    let etag = "";
    // flush: fsync before close, so the renamed object survives a crash with its bytes.
    const out = createWriteStream(tmp, { highWaterMark: COPY_BUFFER, flush: true });
    try {
      for (const part of chosen) {
        const file = path.join(dir, `${partPrefix(part.partNumber)}${part.etag}.part`);
        await pipeline(createReadStream(file, { highWaterMark: COPY_BUFFER }), out, { end: false });
        md5s.update(Buffer.from(part.etag, "hex"));
        size += part.size;
      }
      out.end();
      await finished(out);
      // S3's multipart etag: md5 of the parts' binary md5s, then "-<part count>".
      etag = `${md5s.digest("hex")}-${chosen.length}`;
      await this.publish(tmp, key, { etag, contentType: manifest.contentType, metadata: manifest.metadata });
    } catch (err) {
      out.destroy();
      await rm(tmp, { force: true });
      if (isNoEntry(err)) throw noSuchUpload(uploadId); // aborted while we assembled it
      throw err;
    }
    await rm(dir, { recursive: true, force: true });
    return { etag, size };
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    assertKey(key);
    const manifest = await this.readManifest(uploadId);
    if (!manifest || manifest.key !== key) return; // already gone: aborting is idempotent, as in S3
    await rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  async listMultipartUploads(prefix: string): Promise<MultipartUploadInfo[]> {
    assertPrefix(prefix, true);
    const uploads: MultipartUploadInfo[] = [];
    for (const uploadId of await readdirOrEmpty(path.join(this.root, ".uploads"))) {
      const manifest = await this.readManifest(uploadId);
      if (manifest?.key.startsWith(prefix)) {
        uploads.push({ key: manifest.key, uploadId, initiated: new Date(manifest.initiated) });
      }
    }
    // S3 orders by key, then by initiation time.
    return uploads.sort((a, b) =>
      a.key === b.key ? a.initiated.getTime() - b.initiated.getTime() : a.key < b.key ? -1 : 1,
    );
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertKey(key);
    const meta = await this.meta(key);
    if (!meta) return null;
    return {
      size: meta.size,
      etag: meta.etag,
      metadata: meta.metadata,
      ...(meta.contentType === undefined ? {} : { contentType: meta.contentType }),
    };
  }

  async getStream(key: string, range: ByteRange = {}): Promise<Readable> {
    assertKey(key);
    const file = this.objectPath(key);
    const info = await statFile(file);
    if (!info) throw new AppError("NOT_FOUND", `object ${key} not found`);
    const start = range.start ?? 0;
    if (!Number.isSafeInteger(start) || start < 0 || (range.end !== undefined && !(range.end >= start))) {
      throw new AppError("VALIDATION_FAILED", "invalid byte range", { details: { range } });
    }
    const wantsRange = range.start !== undefined || range.end !== undefined;
    if (wantsRange && start >= info.size) {
      throw new AppError("VALIDATION_FAILED", `range starts past the end of the ${info.size}-byte object`, {
        details: { range, size: info.size },
      });
    }
    if (info.size === 0) return Readable.from([]);
    const end = Math.min(range.end ?? info.size - 1, info.size - 1);
    return createReadStream(file, { start, end, highWaterMark: COPY_BUFFER });
  }

  async put(
    key: string,
    body: Body,
    options: { contentLength?: number; contentType?: string; metadata?: Record<string, string> } = {},
  ): Promise<{ etag: string; size: number }> {
    assertKey(key);
    if (options.contentLength !== undefined) assertObjectSize(options.contentLength);
    const tmp = await this.tmpFile();
    const metered = new MeteredStream(options.contentLength);
    try {
      await pipeline(
        toReadable(body),
        metered,
        createWriteStream(tmp, { highWaterMark: COPY_BUFFER, flush: true }),
      );
      const etag = metered.md5();
      await this.publish(tmp, key, {
        etag,
        contentType: options.contentType,
        metadata: lowerKeys(options.metadata),
      });
      return { etag, size: metered.bytes };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    await rm(this.objectPath(key), { force: true });
    await rm(this.metaPath(key), { force: true });
    await this.pruneEmptyDirs(path.dirname(this.objectPath(key)), path.join(this.root, "objects"));
    await this.pruneEmptyDirs(path.dirname(this.metaPath(key)), path.join(this.root, ".meta"));
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertPrefix(prefix, false);
    // S3 prefixes are plain string prefixes ("a/b" matches "a/bc/d"): walk the deepest folder that
    // contains every match and filter by string.
    const folder = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    const base = path.join(this.root, "objects", folder);
    let deleted = 0;
    const entries = await readdir(base, { recursive: true, withFileTypes: true }).catch((err: unknown) => {
      if (isNoEntry(err) || isNotDir(err)) return [];
      throw err;
    });
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const key = path
        .relative(path.join(this.root, "objects"), path.join(entry.parentPath, entry.name))
        .split(path.sep)
        .join("/");
      if (!key.startsWith(prefix)) continue;
      await this.delete(key);
      deleted += 1;
    }
    for (const upload of await this.listMultipartUploads(prefix)) {
      await rm(this.uploadDir(upload.uploadId), { recursive: true, force: true });
    }
    return deleted;
  }

  async close(): Promise<void> {}

  // --- internals -------------------------------------------------------------------------------

  private objectPath(key: string): string {
    return path.join(this.root, "objects", ...key.split("/"));
  }

  private metaPath(key: string): string {
    return path.join(this.root, ".meta", ...key.split("/"));
  }

  private uploadDir(uploadId: string): string {
    return path.join(this.root, ".uploads", uploadId);
  }

  private async tmpFile(): Promise<string> {
    const dir = path.join(this.root, ".tmp");
    await mkdir(dir, { recursive: true });
    return path.join(dir, randomBytes(12).toString("hex"));
  }

  private async readManifest(uploadId: string): Promise<UploadManifest | null> {
    if (!UPLOAD_ID.test(uploadId)) return null;
    try {
      const raw = await readFile(path.join(this.uploadDir(uploadId), "upload.json"), "utf8");
      return uploadManifest.parse(JSON.parse(raw));
    } catch (err) {
      if (isNoEntry(err)) return null;
      throw err;
    }
  }

  /** The upload's manifest; NOT_FOUND when there is no such upload for this key (as S3's NoSuchUpload). */
  private async manifest(key: string, uploadId: string): Promise<UploadManifest> {
    const manifest = await this.readManifest(uploadId);
    if (!manifest || manifest.key !== key) throw noSuchUpload(uploadId);
    return manifest;
  }

  private async parts(uploadId: string): Promise<PartInfo[]> {
    const dir = this.uploadDir(uploadId);
    const byNumber = new Map<number, PartInfo & { mtimeMs: number }>();
    for (const name of await readdirOrEmpty(dir)) {
      const match = PART_FILE.exec(name);
      if (!match) continue;
      const info = await statFile(path.join(dir, name));
      if (!info) continue; // replaced while we listed
      const part = { partNumber: Number(match[1]), etag: match[2]!, size: info.size, mtimeMs: info.mtimeMs };
      const seen = byNumber.get(part.partNumber);
      // Two concurrent uploads of one number: the newer wins, as in S3.
      if (!seen || seen.mtimeMs < part.mtimeMs) byNumber.set(part.partNumber, part);
    }
    return [...byNumber.values()]
      .sort((a, b) => a.partNumber - b.partNumber)
      .map(({ partNumber, etag, size }) => ({ partNumber, etag, size }));
  }

  /** Moves a finished temp file into place, then records its etag next to it. */
  private async publish(
    tmp: string,
    key: string,
    meta: { etag: string; contentType: string | undefined; metadata: Record<string, string> },
  ): Promise<void> {
    const target = this.objectPath(key);
    await mkdir(path.dirname(target), { recursive: true }).catch((err: unknown) => {
      throw isNotDir(err) || isExists(err) ? keyConflict(key) : err;
    });
    await rename(tmp, target).catch((err: unknown) => {
      throw isDir(err) || isNotDir(err) ? keyConflict(key) : err;
    });
    const info = await stat(target);
    await this.writeMeta(key, {
      etag: meta.etag,
      size: info.size,
      mtimeMs: info.mtimeMs,
      metadata: meta.metadata,
      ...(meta.contentType === undefined ? {} : { contentType: meta.contentType }),
    });
  }

  private async writeMeta(key: string, meta: ObjectMeta): Promise<void> {
    const file = this.metaPath(key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = await this.tmpFile();
    await writeFile(tmp, JSON.stringify(meta));
    await rename(tmp, file);
  }

  /**
   * The object's metadata. The data is renamed into place before its metadata is written, so after
   * a crash between the two (or a concurrent overwrite) the record can be stale: then the etag is
   * recomputed from the bytes and the record rewritten.
   */
  private async meta(key: string): Promise<ObjectMeta | null> {
    const info = await statFile(this.objectPath(key));
    if (!info) return null;
    let meta: ObjectMeta | null = null;
    try {
      meta = objectMeta.parse(JSON.parse(await readFile(this.metaPath(key), "utf8")));
    } catch {
      meta = null;
    }
    if (meta && meta.size === info.size && meta.mtimeMs === info.mtimeMs) return meta;
    const hash = createHash("md5");
    await pipeline(createReadStream(this.objectPath(key), { highWaterMark: COPY_BUFFER }), hash);
    const fresh: ObjectMeta = {
      etag: hash.digest("hex"),
      size: info.size,
      mtimeMs: info.mtimeMs,
      metadata: meta?.metadata ?? {},
      ...(meta?.contentType === undefined ? {} : { contentType: meta.contentType }),
    };
    await this.writeMeta(key, fresh);
    return fresh;
  }

  /** Removes now-empty folders up to (not including) `stop`, so deleted prefixes leave no husks. */
  private async pruneEmptyDirs(dir: string, stop: string): Promise<void> {
    let current = dir;
    while (current.startsWith(stop + path.sep)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty, or already gone
      }
      current = path.dirname(current);
    }
  }
}

function partPrefix(partNumber: number): string {
  return `${String(partNumber).padStart(5, "0")}-`;
}

function lowerKeys(metadata: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

function noSuchUpload(uploadId: string): AppError {
  return new AppError("NOT_FOUND", `upload ${uploadId} not found`, { details: { uploadId } });
}

function keyConflict(key: string): AppError {
  return new AppError("CONFLICT", `object key ${key} clashes with a folder of other keys on this store`);
}

async function statFile(file: string) {
  try {
    const info = await stat(file);
    return info.isFile() ? info : null;
  } catch (err) {
    if (isNoEntry(err) || isNotDir(err)) return null;
    throw err;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isNoEntry(err)) return [];
    throw err;
  }
}

function errCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String(err.code) : undefined;
}
const isNoEntry = (err: unknown) => errCode(err) === "ENOENT";
const isNotDir = (err: unknown) => errCode(err) === "ENOTDIR";
const isDir = (err: unknown) => errCode(err) === "EISDIR";
const isExists = (err: unknown) => errCode(err) === "EEXIST";
