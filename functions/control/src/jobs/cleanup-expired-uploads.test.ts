import { withSystem } from "@maas/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, json, patternBytes, type Seeded } from "../../test/harness.js";
import { cleanupExpiredUploads } from "./cleanup-expired-uploads.js";

let h: Harness;
let t: Seeded;
beforeAll(async () => {
  h = await createHarness();
  t = await h.seedTenant();
  await h.request("POST", "/v1/models", { key: t.keys.developer, body: { name: "m" } });
}, 60_000);
afterAll(() => h.close());

describe("cleanupExpiredUploads", () => {
  it("aborts expired uploads in the store, marks them expired, releases the bytes and rejects the version", async () => {
    const res = await h.request("POST", "/v1/models/m/uploads", {
      key: t.keys.developer,
      body: { sizeBytes: 100, sha256: "f".repeat(64) },
    });
    const { upload } = await json<{ upload: { id: string; versionId: string; expiresAt: string } }>(res);
    await h.request("PUT", `/v1/uploads/${upload.id}/parts/1`, {
      key: t.keys.developer,
      raw: patternBytes(100),
      headers: { "content-type": "application/octet-stream", "content-length": "100" },
    });
    const live = await h.request("POST", "/v1/models/m/uploads", {
      key: t.keys.developer,
      body: { sizeBytes: 50, sha256: "f".repeat(64) },
    });
    expect(live.status).toBe(201);

    // Not yet due: nothing happens.
    expect(await cleanupExpiredUploads({ db: h.db, store: h.store, now: new Date() })).toEqual({
      expired: 0,
      strays: 0,
      failures: 0,
    });

    const later = new Date(Date.parse(upload.expiresAt) + 60_000);
    const result = await cleanupExpiredUploads({
      db: h.db,
      store: h.store,
      now: later,
      strayGraceMs: 3_600_000 * 48,
    });
    // Both uploads share the TTL, so both are due.
    expect(result).toEqual({ expired: 2, strays: 0, failures: 0 });
    const rows = await withSystem(h.db, async (trx) => ({
      upload: await trx
        .selectFrom("uploads")
        .selectAll()
        .where("id", "=", upload.id)
        .executeTakeFirstOrThrow(),
      version: await trx
        .selectFrom("model_versions")
        .selectAll()
        .where("id", "=", upload.versionId)
        .executeTakeFirstOrThrow(),
      storage: await trx
        .selectFrom("tenant_storage")
        .selectAll()
        .where("tenant_id", "=", t.tenantId)
        .executeTakeFirstOrThrow(),
      audit: await trx.selectFrom("audit_log").selectAll().where("action", "=", "upload.expire").execute(),
    }));
    expect(rows.upload.status).toBe("expired");
    expect(rows.version).toMatchObject({ status: "rejected", rejection_code: "UPLOAD_EXPIRED" });
    expect(rows.storage.reserved_bytes).toBe(0n);
    expect(rows.audit.map((a) => a.target)).toContain(upload.id);
    expect(await h.store.listMultipartUploads(`tenants/${t.tenantId}/`)).toEqual([]);
    // Idempotent.
    expect(await cleanupExpiredUploads({ db: h.db, store: h.store, now: later })).toMatchObject({
      expired: 0,
    });
  });

  it("aborts stray multipart uploads no active row owns, after the grace period only", async () => {
    const key = `tenants/${t.tenantId}/models/mdl_stray/mver_stray/original.onnx`;
    const { uploadId } = await h.store.createMultipart(key);
    const soon = await cleanupExpiredUploads({
      db: h.db,
      store: h.store,
      now: new Date(),
      strayGraceMs: 60_000,
    });
    expect(soon.strays).toBe(0);
    const later = new Date(Date.now() + 120_000);
    const result = await cleanupExpiredUploads({
      db: h.db,
      store: h.store,
      now: later,
      strayGraceMs: 60_000,
    });
    expect(result.strays).toBe(1);
    const left = await h.store.listMultipartUploads("tenants/");
    expect(left.map((u) => u.uploadId)).not.toContain(uploadId);
  });

  it("leaves active, unexpired uploads and their multipart uploads alone", async () => {
    const res = await h.request("POST", "/v1/models/m/uploads", {
      key: t.keys.developer,
      body: { sizeBytes: 10, sha256: "f".repeat(64) },
    });
    const { upload } = await json<{ upload: { id: string } }>(res);
    const result = await cleanupExpiredUploads({
      db: h.db,
      store: h.store,
      now: new Date(Date.now() + 120_000),
      strayGraceMs: 60_000,
    });
    expect(result).toEqual({ expired: 0, strays: 0, failures: 0 });
    const status = await h.request("GET", `/v1/uploads/${upload.id}`, { key: t.keys.developer });
    expect(await status.json()).toMatchObject({ upload: { status: "active" } });
  });
});
