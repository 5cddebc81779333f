import { describe, expect, it } from "vitest";
import { createObjectStore } from "./create-object-store.js";
import { FsObjectStore } from "./fs-object-store.js";
import { S3ObjectStore } from "./s3-object-store.js";

describe("createObjectStore", () => {
  it("uses a folder when S3_ENDPOINT is absent or empty", async () => {
    for (const env of [{}, { S3_ENDPOINT: "" }, { OBJECT_DIR: "/tmp/maas-objects" }]) {
      const store = createObjectStore(env);
      expect(store).toBeInstanceOf(FsObjectStore);
      expect(store.kind).toBe("fs");
      await store.close();
    }
  });

  it("uses S3 when S3_ENDPOINT is set, with the bucket and public endpoint given", async () => {
    const store = createObjectStore({
      S3_ENDPOINT: "http://127.0.0.1:59000",
      S3_PUBLIC_ENDPOINT: "https://objects.example.com",
      S3_BUCKET: "models-x",
      S3_ACCESS_KEY_ID: "id",
      S3_SECRET_ACCESS_KEY: "secret",
    });
    expect(store).toBeInstanceOf(S3ObjectStore);
    expect((store as S3ObjectStore).bucket).toBe("models-x");
    // Signing is local: no server needed to check which host the URL names.
    const url = await store.presignPart("tenants/tnt_1/a.onnx", "up-123456789", 1, 60);
    expect(url?.startsWith("https://objects.example.com/models-x/tenants/tnt_1/a.onnx?")).toBe(true);
    await store.close();
  });

  it("accepts a function's already-parsed env (numbers, booleans, other keys)", async () => {
    const store = createObjectStore({
      PORT: 8080,
      S3_ENDPOINT: "http://127.0.0.1:59000",
      S3_FORCE_PATH_STYLE: true,
    });
    expect(store.kind).toBe("s3");
    await store.close();
  });

  it("refuses a malformed endpoint", () => {
    expect(() => createObjectStore({ S3_ENDPOINT: "not a url" })).toThrow();
  });
});
