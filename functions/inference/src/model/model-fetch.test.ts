import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FsObjectStore } from "@maas/storage";
import { describe, expect, it } from "vitest";
import { fetchModel } from "./model-fetch.js";

const bytes = new Uint8Array(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251));
const sha = createHash("sha256").update(bytes).digest("hex");

describe("fetchModel", () => {
  it("uses a local path (or file:// URI) in place, checking the sha256 when given", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fetch-local-"));
    const path = join(dir, "m.onnx");
    await writeFile(path, bytes);
    await expect(fetchModel({ path, cacheDir: dir, sha256: sha })).resolves.toEqual({
      path,
      bytes: bytes.byteLength,
      cached: true,
      sha256: sha,
    });
    await expect(fetchModel({ uri: pathToFileURL(path).href, cacheDir: dir })).resolves.toMatchObject({
      path,
    });
    await expect(fetchModel({ path, cacheDir: dir, sha256: "0".repeat(64) })).rejects.toThrow(
      /does not match/,
    );
  });

  it("streams an s3:// object into the cache through a temp file, then reuses it", async () => {
    const root = await mkdtemp(join(tmpdir(), "fetch-objects-"));
    const cacheDir = await mkdtemp(join(tmpdir(), "fetch-cache-"));
    const store = new FsObjectStore({ root });
    await store.put("tenants/t/models/m/1/fp32.onnx", bytes);
    const uri = "s3://maas-models/tenants/t/models/m/1/fp32.onnx";
    const first = await fetchModel({ uri, cacheDir, sha256: sha, objects: store });
    expect(first).toEqual({
      path: join(cacheDir, `${sha}.onnx`),
      bytes: bytes.byteLength,
      cached: false,
      sha256: sha,
    });
    expect(new Uint8Array(await readFile(first.path))).toEqual(bytes);
    const second = await fetchModel({ uri, cacheDir, sha256: sha, objects: store });
    expect(second.cached).toBe(true);
    expect(await readdir(cacheDir)).toEqual([`${sha}.onnx`]);
  });

  it("leaves nothing in the cache when the downloaded bytes do not match the sha256", async () => {
    const root = await mkdtemp(join(tmpdir(), "fetch-objects-"));
    const cacheDir = await mkdtemp(join(tmpdir(), "fetch-cache-"));
    const store = new FsObjectStore({ root });
    await store.put("m.onnx", bytes);
    await expect(
      fetchModel({ uri: "s3://b/m.onnx", cacheDir, sha256: "a".repeat(64), objects: store }),
    ).rejects.toThrow(/does not match/);
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it("refuses unknown schemes and s3:// without a store", async () => {
    await expect(fetchModel({ uri: "http://x/m.onnx", cacheDir: tmpdir() })).rejects.toThrow(
      /unsupported MODEL_URI/,
    );
    await expect(fetchModel({ uri: "s3://b/k", cacheDir: tmpdir() })).rejects.toThrow(
      /needs an object store/,
    );
  });
});
