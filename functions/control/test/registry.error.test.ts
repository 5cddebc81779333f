import { withSystem } from "@maas/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, json, MiB, patternBytes, type Seeded } from "./harness.js";

interface UploadBody {
  upload: { id: string; versionId: string; partCount: number; expiresAt: string };
}
interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

let h: Harness;
let t: Seeded;
const SHA = "e".repeat(64);

beforeAll(async () => {
  h = await createHarness();
  t = await h.seedTenant();
  await h.request("POST", "/v1/models", { key: t.keys.developer, body: { name: "m" } });
}, 60_000);
afterAll(() => h.close());

async function newUpload(sizeBytes: number): Promise<UploadBody["upload"]> {
  const res = await h.request("POST", "/v1/models/m/uploads", {
    key: t.keys.developer,
    body: { sizeBytes, sha256: SHA },
  });
  expect(res.status).toBe(201);
  return (await json<UploadBody>(res)).upload;
}

function putPart(uploadId: string, n: number, bytes: Uint8Array, contentLength = String(bytes.byteLength)) {
  return h.request("PUT", `/v1/uploads/${uploadId}/parts/${n}`, {
    key: t.keys.developer,
    raw: bytes,
    headers: { "content-type": "application/octet-stream", "content-length": contentLength },
  });
}

describe("storage quota", () => {
  it("refuses an upload over the quota at create with QUOTA_EXCEEDED and leaves nothing behind", async () => {
    await withSystem(h.db, (trx) =>
      trx
        .updateTable("quotas")
        .set({ max_storage_bytes: 50 * MiB })
        .where("tenant_id", "=", t.tenantId)
        .execute(),
    );
    const inStoreBefore = await h.store.listMultipartUploads("tenants/");
    const before = await h.snapshot();
    const res = await h.request("POST", "/v1/models/m/uploads", {
      key: t.keys.developer,
      body: { sizeBytes: 60 * MiB, sha256: SHA },
    });
    expect(res.status).toBe(403);
    const body = await json<ErrorBody>(res);
    expect(body.error.code).toBe("QUOTA_EXCEEDED");
    expect(body.error.details).toMatchObject({
      limit: 50 * MiB,
      requested: 60 * MiB,
      used: expect.any(Number),
    });
    expect(await h.snapshot()).toEqual(before);
    expect(await h.store.listMultipartUploads("tenants/")).toEqual(inStoreBefore);
  });

  it("counts reserved bytes of open uploads: two uploads cannot both take the last bytes", async () => {
    await withSystem(h.db, (trx) =>
      trx
        .updateTable("quotas")
        .set({ max_storage_bytes: 10 * MiB })
        .where("tenant_id", "=", t.tenantId)
        .execute(),
    );
    const first = await newUpload(6 * MiB);
    const second = await h.request("POST", "/v1/models/m/uploads", {
      key: t.keys.developer,
      body: { sizeBytes: 6 * MiB, sha256: SHA },
    });
    expect(second.status).toBe(403);
    // Aborting the first gives its bytes back.
    expect((await h.request("DELETE", `/v1/uploads/${first.id}`, { key: t.keys.developer })).status).toBe(
      200,
    );
    const third = await newUpload(6 * MiB);
    expect((await h.request("DELETE", `/v1/uploads/${third.id}`, { key: t.keys.developer })).status).toBe(
      200,
    );
    await withSystem(h.db, (trx) =>
      trx
        .updateTable("quotas")
        .set({ max_storage_bytes: 10 * 1024 * MiB })
        .where("tenant_id", "=", t.tenantId)
        .execute(),
    );
  });
});

describe("model errors", () => {
  it("a second model with the same name is 409 CONFLICT", async () => {
    const res = await h.request("POST", "/v1/models", { key: t.keys.developer, body: { name: "m" } });
    expect(res.status).toBe(409);
    expect((await json<ErrorBody>(res)).error.code).toBe("CONFLICT");
  });

  it("the model-count quota refuses with QUOTA_EXCEEDED", async () => {
    const other = await h.seedTenant();
    await withSystem(h.db, (trx) =>
      trx.updateTable("quotas").set({ max_models: 1 }).where("tenant_id", "=", other.tenantId).execute(),
    );
    expect(
      (await h.request("POST", "/v1/models", { key: other.keys.developer, body: { name: "one" } })).status,
    ).toBe(201);
    const res = await h.request("POST", "/v1/models", { key: other.keys.developer, body: { name: "two" } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      error: { code: "QUOTA_EXCEEDED", details: { quota: "models", limit: 1 } },
    });
  });

  it("an unknown model or version is 404", async () => {
    expect((await h.request("GET", "/v1/models/nope", { key: t.keys.viewer })).status).toBe(404);
    expect((await h.request("GET", "/v1/models/m/versions/99", { key: t.keys.viewer })).status).toBe(404);
    const up = await h.request("POST", "/v1/models/nope/uploads", {
      key: t.keys.developer,
      body: { sizeBytes: 10, sha256: SHA },
    });
    expect(up.status).toBe(404);
  });

  it("unknown body fields are refused (strict bodies)", async () => {
    const res = await h.request("POST", "/v1/models", {
      key: t.keys.developer,
      body: { name: "x", owner: "me" },
    });
    expect(res.status).toBe(400);
  });

  it("malformed JSON is 400, not 500", async () => {
    const res = await h.request("POST", "/v1/models", { key: t.keys.developer, body: "{nope" });
    expect(res.status).toBe(400);
  });
});

describe("part errors", () => {
  it("a part whose Content-Length is not the part's size is refused before anything is stored", async () => {
    const upload = await newUpload(7 * MiB);
    const res = await putPart(upload.id, 2, patternBytes(100));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "VALIDATION_FAILED", details: { issues: [{ path: "content-length" }] } },
    });
    const res2 = await putPart(upload.id, 3, patternBytes(100));
    expect(res2.status).toBe(400);
    expect((await json<ErrorBody>(res2)).error.message).toContain("partNumber");
    const status = await json<{ parts: unknown[] }>(
      await h.request("GET", `/v1/uploads/${upload.id}`, { key: t.keys.developer }),
    );
    expect(status.parts).toEqual([]);
  });

  it("part URLs beyond the part count are refused with the field named", async () => {
    const upload = await newUpload(100);
    const res = await h.request("POST", `/v1/uploads/${upload.id}/parts`, {
      key: t.keys.developer,
      body: { partNumbers: [1, 2] },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { details: { issues: [{ path: "partNumbers" }] } } });
    const dup = await h.request("POST", `/v1/uploads/${upload.id}/parts`, {
      key: t.keys.developer,
      body: { partNumbers: [1, 1] },
    });
    expect(dup.status).toBe(400);
    const many = await h.request("POST", `/v1/uploads/${upload.id}/parts`, {
      key: t.keys.developer,
      body: { partNumbers: Array.from({ length: 1001 }, (_, i) => i + 1) },
    });
    expect(many.status).toBe(400);
  });

  it("a size S3 cannot hold is refused at create", async () => {
    const res = await h.request("POST", "/v1/models/m/uploads", {
      key: t.keys.developer,
      body: { sizeBytes: 6 * 1024 ** 4, sha256: SHA },
    });
    expect(res.status).toBe(400);
  });

  it("an expired upload is 410 GONE for parts and complete, before the cleanup job ran", async () => {
    const upload = await newUpload(100);
    h.setNow(new Date(Date.parse(upload.expiresAt) + 1000));
    try {
      expect((await putPart(upload.id, 1, patternBytes(100))).status).toBe(410);
      const parts = await h.request("POST", `/v1/uploads/${upload.id}/parts`, {
        key: t.keys.developer,
        body: { partNumbers: [1] },
      });
      expect(parts.status).toBe(410);
      const done = await h.request("POST", `/v1/uploads/${upload.id}/complete`, {
        key: t.keys.developer,
        body: {},
      });
      expect(done.status).toBe(410);
    } finally {
      h.setNow(undefined);
    }
  });

  it("abort of a completed upload is 409", async () => {
    const upload = await newUpload(100);
    expect((await putPart(upload.id, 1, patternBytes(100))).status).toBe(200);
    expect(
      (await h.request("POST", `/v1/uploads/${upload.id}/complete`, { key: t.keys.developer, body: {} }))
        .status,
    ).toBe(200);
    const res = await h.request("DELETE", `/v1/uploads/${upload.id}`, { key: t.keys.developer });
    expect(res.status).toBe(409);
    const again = await h.request("POST", `/v1/uploads/${upload.id}/complete`, {
      key: t.keys.developer,
      body: {},
    });
    expect(again.status).toBe(409);
  });
});
