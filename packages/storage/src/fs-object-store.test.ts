import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FsObjectStore } from "./fs-object-store.js";
import { describeObjectStoreContract } from "./testing/contract-suite.js";

let root = "";
describeObjectStoreContract(
  "FsObjectStore",
  async () => {
    root = await mkdtemp(path.join(tmpdir(), "maas-fs-store-"));
    return { store: new FsObjectStore({ root }), dispose: () => rm(root, { recursive: true, force: true }) };
  },
  { presigns: false },
);

describe("FsObjectStore specifics", () => {
  it("keeps parts under .uploads/<uploadId>/ and leaves no temp files or empty folders behind", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "maas-fs-layout-"));
    try {
      const store = new FsObjectStore({ root: dir });
      const key = "tenants/tnt_1/models/mdl_1/mver_1/original.onnx";
      const { uploadId } = await store.createMultipart(key);
      await store.uploadPart(key, uploadId, 1, new Uint8Array([1, 2, 3]), 3);
      expect((await readdir(path.join(dir, ".uploads", uploadId))).sort()).toEqual([
        "00001-5289df737df57326fcdd22597afb1fac.part",
        "upload.json",
      ]);
      await store.completeMultipart(key, uploadId, [
        { partNumber: 1, etag: "5289df737df57326fcdd22597afb1fac" },
      ]);
      expect(await readdir(path.join(dir, ".uploads"))).toEqual([]);
      expect(await readdir(path.join(dir, ".tmp"))).toEqual([]);
      await store.deletePrefix("tenants/tnt_1/");
      expect(await readdir(path.join(dir, "objects"))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("recomputes a stale etag record from the bytes", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "maas-fs-meta-"));
    try {
      const store = new FsObjectStore({ root: dir });
      await store.put("a/b.onnx", new Uint8Array([1, 2, 3]));
      await rm(path.join(dir, ".meta", "a", "b.onnx")); // as if the process died between rename and record
      expect(await store.head("a/b.onnx")).toEqual({
        size: 3,
        etag: "5289df737df57326fcdd22597afb1fac",
        metadata: {},
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a key that is a folder of other keys with CONFLICT", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "maas-fs-conflict-"));
    try {
      const store = new FsObjectStore({ root: dir });
      await store.put("a/b/c.onnx", new Uint8Array([1]));
      await expect(store.put("a/b", new Uint8Array([1]))).rejects.toMatchObject({ code: "CONFLICT" });
      expect(await readdir(path.join(dir, ".tmp"))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
