// Model fetch against the real MinIO (`pnpm infra up`): s3:// → streamed into the cache, hashed.
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultInfra } from "@maas/config";
import { encodeModel, zoo } from "@maas/onnx";
import { createObjectStore } from "@maas/storage";
import { afterAll, describe, expect, it } from "vitest";
import { fetchModel } from "./model-fetch.js";

const { minio } = defaultInfra;
const store = createObjectStore({
  S3_ENDPOINT: process.env.S3_ENDPOINT ?? `http://${minio.host}:${minio.port}`,
  S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID ?? minio.accessKey,
  S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY ?? minio.secretKey,
  S3_BUCKET: "maas-models",
  S3_FORCE_PATH_STYLE: "true",
});
const key = `tests/inference/${randomUUID()}/fp32.onnx`;

afterAll(async () => {
  await store.delete(key);
  await store.close();
});

describe("fetchModel from MinIO", () => {
  it("streams the object into the cache with its sha256 checked, then serves it from the cache", async () => {
    const bytes = encodeModel(zoo.smallCnn(3));
    const sha = createHash("sha256").update(bytes).digest("hex");
    await store.put(key, bytes);
    const cacheDir = await mkdtemp(join(tmpdir(), "fetch-minio-"));
    const first = await fetchModel({ uri: `s3://maas-models/${key}`, cacheDir, sha256: sha, objects: store });
    expect(first).toMatchObject({ cached: false, bytes: bytes.byteLength, sha256: sha });
    expect(Buffer.compare(await readFile(first.path), Buffer.from(bytes))).toBe(0);
    const second = await fetchModel({
      uri: `s3://maas-models/${key}`,
      cacheDir,
      sha256: sha,
      objects: store,
    });
    expect(second).toMatchObject({ cached: true, path: first.path });
  });
});
