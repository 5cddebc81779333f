import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { defaultInfra } from "@maas/config";
import { createDb, createFreshDatabase, type FreshDatabase, migrateToLatest, withSystem } from "@maas/db";
import { S3ObjectStore } from "@maas/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupExpiredUploads } from "../src/jobs/cleanup-expired-uploads.js";
import { createHarness, type Harness, json, MiB, patternBytes, type Seeded } from "./harness.js";
import { securitySuite } from "./security-suite.js";

// Against the real services: PostgreSQL (a fresh database for this file) and MinIO.
const pg = defaultInfra.postgres;
const adminUrl =
  process.env.DATABASE_URL || `postgres://${pg.user}:${pg.password}@${pg.host}:${pg.port}/${pg.database}`;
const minio = defaultInfra.minio;
const run = promisify(execFile);

let fresh: FreshDatabase;
let closeDb: () => Promise<void>;
let store: S3ObjectStore;
let h: Harness;
let t: Seeded;
let dir: string;

beforeAll(async () => {
  fresh = await createFreshDatabase(adminUrl, { prefix: "control_int" });
  const handle = createDb({ url: fresh.url });
  closeDb = handle.close;
  await migrateToLatest(handle.db);
  store = new S3ObjectStore({
    endpoint: process.env.S3_ENDPOINT || `http://${minio.host}:${minio.port}`,
    bucket: process.env.S3_BUCKET || "maas-models",
    credentials: {
      accessKeyId: process.env.S3_ACCESS_KEY_ID || minio.accessKey,
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY || minio.secretKey,
    },
  });
  await store.ensureBucket();
  h = await createHarness({ db: handle.db, store });
  t = await h.seedTenant();
  dir = await mkdtemp(path.join(tmpdir(), "control-int-"));
  expect((await h.request("POST", "/v1/models", { key: t.keys.developer, body: { name: "m" } })).status).toBe(
    201,
  );
});

afterAll(async () => {
  if (t !== undefined) await store.deletePrefix(`tenants/${t.tenantId}/`).catch(() => undefined);
  await h?.close();
  await store?.close();
  await closeDb?.();
  await fresh?.drop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface UploadBody {
  upload: { id: string; versionId: string; partCount: number; partSize: number; expiresAt: string };
}

describe("uploads against PostgreSQL and MinIO", () => {
  it("a part PUT with plain `curl -T` to a presigned URL is accepted and the upload completes", async () => {
    const size = 11 * MiB + 7;
    const file = patternBytes(size, 11);
    const sha256 = createHash("sha256").update(file).digest("hex");
    const created = await h.request("POST", "/v1/models/m/uploads", {
      key: t.keys.developer,
      body: { sizeBytes: size, sha256 },
    });
    expect(created.status).toBe(201);
    const { upload } = await json<UploadBody>(created);
    expect(upload.partCount).toBe(3);

    const urls = await json<{ parts: { partNumber: number; url: string; method: string }[] }>(
      await h.request("POST", `/v1/uploads/${upload.id}/parts`, {
        key: t.keys.developer,
        body: { partNumbers: [1, 2, 3] },
      }),
    );
    // Presigned: straight to MinIO, not through the API.
    for (const p of urls.parts) expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:59000\/.*X-Amz-Signature=/);

    for (const p of urls.parts) {
      const start = (p.partNumber - 1) * upload.partSize;
      const partFile = path.join(dir, `part-${p.partNumber}`);
      await writeFile(partFile, file.subarray(start, Math.min(start + upload.partSize, size)));
      // Stock client: curl uploads the file with PUT and fails (-f) on any HTTP error.
      await run("curl", ["-sSf", "-T", partFile, p.url]);
    }

    const status = await json<{ parts: { partNumber: number; size: number }[] }>(
      await h.request("GET", `/v1/uploads/${upload.id}`, { key: t.keys.developer }),
    );
    expect(status.parts.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 5 * MiB],
      [2, 5 * MiB],
      [3, MiB + 7],
    ]);

    const done = await h.request("POST", `/v1/uploads/${upload.id}/complete`, {
      key: t.keys.developer,
      body: {},
    });
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ version: { status: "uploaded", sizeBytes: size, sha256 } });
    const key = await withSystem(h.db, (trx) =>
      trx
        .selectFrom("model_versions")
        .select("object_key")
        .where("id", "=", upload.versionId)
        .executeTakeFirstOrThrow(),
    );
    const hash = createHash("sha256");
    for await (const chunk of await store.getStream(key.object_key)) hash.update(chunk as Buffer);
    expect(hash.digest("hex")).toBe(sha256);
  });

  it("a storage-quota refusal leaves nothing in S3; an abort and an expiry leave nothing either", async () => {
    const prefix = `tenants/${t.tenantId}/`;
    await withSystem(h.db, (trx) =>
      trx
        .updateTable("quotas")
        .set({ max_storage_bytes: 100 * MiB })
        .where("tenant_id", "=", t.tenantId)
        .execute(),
    );
    const refused = await h.request("POST", "/v1/models/m/uploads", {
      key: t.keys.developer,
      body: { sizeBytes: 200 * MiB, sha256: "a".repeat(64) },
    });
    expect(refused.status).toBe(403);
    expect(await store.listMultipartUploads(prefix)).toEqual([]);

    const aborted = await json<UploadBody>(
      await h.request("POST", "/v1/models/m/uploads", {
        key: t.keys.developer,
        body: { sizeBytes: 10, sha256: "a".repeat(64) },
      }),
    );
    expect(await store.listMultipartUploads(prefix)).toHaveLength(1);
    expect(
      (await h.request("DELETE", `/v1/uploads/${aborted.upload.id}`, { key: t.keys.developer })).status,
    ).toBe(200);
    expect(await store.listMultipartUploads(prefix)).toEqual([]);

    const expiring = await json<UploadBody>(
      await h.request("POST", "/v1/models/m/uploads", {
        key: t.keys.developer,
        body: { sizeBytes: 10, sha256: "a".repeat(64) },
      }),
    );
    const result = await cleanupExpiredUploads({
      db: h.db,
      store,
      now: new Date(Date.parse(expiring.upload.expiresAt) + 60_000),
      // Only this tenant: the bucket is shared with other test files.
      prefix,
    });
    expect(result.expired).toBeGreaterThanOrEqual(1);
    expect(await store.listMultipartUploads(prefix)).toEqual([]);
  });
});

describe("security on PostgreSQL (row-level security as the real server enforces it)", () => {
  securitySuite("registry", () => h);
});
