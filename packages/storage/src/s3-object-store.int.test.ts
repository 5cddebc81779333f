import { defaultInfra } from "@maas/config";
import { describe, expect, it } from "vitest";
import { S3ObjectStore } from "./s3-object-store.js";
import { describeObjectStoreContract } from "./testing/contract-suite.js";

const minio = defaultInfra.minio;
const config = {
  endpoint: process.env.S3_ENDPOINT || `http://${minio.host}:${minio.port}`,
  bucket: process.env.S3_BUCKET || "maas-models",
  credentials: {
    accessKeyId: process.env.S3_ACCESS_KEY_ID || minio.accessKey,
    secretAccessKey: process.env.S3_SECRET_ACCESS_KEY || minio.secretKey,
  },
};

describeObjectStoreContract(
  "S3ObjectStore (MinIO)",
  async () => {
    const store = new S3ObjectStore(config);
    await store.ensureBucket();
    return { store };
  },
  { presigns: true },
);

describe("S3ObjectStore specifics", () => {
  it("reports UPSTREAM_UNAVAILABLE quickly when S3 cannot be reached", async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const store = new S3ObjectStore({ ...config, endpoint: "http://127.0.0.1:9", maxAttempts: 1 });
    const started = Date.now();
    await expect(store.head("tenants/tnt_1/x.onnx")).rejects.toMatchObject({ code: "UPSTREAM_UNAVAILABLE" });
    await expect(store.createMultipart("tenants/tnt_1/x.onnx")).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    await store.close();
  });

  it("reports UPSTREAM_UNAVAILABLE for wrong credentials, never NOT_FOUND", async () => {
    const store = new S3ObjectStore({
      ...config,
      credentials: { accessKeyId: "nobody", secretAccessKey: "wrong-secret" },
      maxAttempts: 1,
    });
    await expect(store.createMultipart("tenants/tnt_1/x.onnx")).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
    });
    await store.close();
  });

  it("signs part URLs for the public endpoint when one is configured", async () => {
    const store = new S3ObjectStore({ ...config, publicEndpoint: "https://objects.example.com" });
    const url = await store.presignPart("tenants/tnt_1/x.onnx", "upload-id-123", 7, 60);
    expect(url).toMatch(/^https:\/\/objects\.example\.com\/maas-models\/tenants\/tnt_1\/x\.onnx\?/);
    expect(new URL(url).searchParams.get("partNumber")).toBe("7");
    expect(new URL(url).searchParams.get("X-Amz-SignedHeaders")).toBe("host");
    await store.close();
  });
});
