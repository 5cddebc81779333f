import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createJwtVerifier, createVerifier, generateApiKey, type TenantRole } from "@maas/auth";
import { createDb, type Database, migrateToLatest, newId, TENANT_TABLES, withSystem } from "@maas/db";
import { captureLogger } from "@maas/runtime/testing";
import { FsObjectStore, type ObjectStore } from "@maas/storage";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { Kysely } from "kysely";
import { createControl } from "../src/app.js";
import type { UploadSettings } from "../src/services.js";

export const ISSUER = "https://idp.test/";
export const AUDIENCE = "maas-control-test";
export const PUBLIC_URL = "http://control.test";
export const MiB = 1024 * 1024;

export interface HarnessOptions {
  /** Default: a filesystem store in a temp folder (embedded mode: no presigning). */
  store?: ObjectStore;
  /** Default: a real PGlite, migrated. */
  db?: Kysely<Database>;
  clock?: () => Date;
  uploads?: Partial<UploadSettings>;
}

export interface Seeded {
  tenantId: string;
  keys: Record<TenantRole, string>;
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

/**
 * The control function over a real database (PGlite unless one is given) and a real object store,
 * with a test identity provider for operator JWTs. Nothing is mocked.
 */
export async function createHarness(options: HarnessOptions = {}) {
  const ownDb = options.db === undefined ? createDb() : undefined;
  const db = options.db ?? (ownDb as NonNullable<typeof ownDb>).db;
  if (ownDb !== undefined) await migrateToLatest(db);
  const dir = options.store === undefined ? await mkdtemp(path.join(tmpdir(), "control-test-")) : undefined;
  const store = options.store ?? new FsObjectStore({ root: dir as string });

  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const jwt = createJwtVerifier({ jwks: { keys: { keys: [jwk] } }, issuer: ISSUER, audience: AUDIENCE });
  // No cache: a revoked key or suspended tenant is refused at once in tests.
  const verifier = createVerifier({ db, jwt });
  const { logger, lines } = captureLogger("warn");
  let now: Date | undefined;
  const clock = options.clock ?? (() => now ?? new Date());
  const fn = createControl({
    db,
    store,
    auth: { verifier },
    logger,
    clock,
    publicUrl: PUBLIC_URL,
    uploads: { minPartSize: 5 * MiB, ...options.uploads },
  });

  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);

  async function seedTenant(): Promise<Seeded> {
    const tenantId = newId("tnt");
    const keys = {} as Record<TenantRole, string>;
    await withSystem(db, async (trx) => {
      await trx
        .insertInto("tenants")
        .values({ id: tenantId, slug: `t-${tenantId.slice(-12)}`, name: `tenant ${tenantId}` })
        .execute();
      await trx.insertInto("quotas").values({ tenant_id: tenantId }).execute();
      for (const role of ["owner", "admin", "developer", "viewer"] as const) {
        const key = generateApiKey();
        await trx
          .insertInto("api_keys")
          .values({ id: key.id, tenant_id: tenantId, prefix: key.prefix, hash: key.hash, role, name: role })
          .execute();
        keys[role] = key.secret;
      }
    });
    return { tenantId, keys };
  }

  async function request(
    method: string,
    urlPath: string,
    init: { key?: string; body?: unknown; headers?: Record<string, string>; raw?: RequestInit["body"] } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.key !== undefined) headers.authorization = `Bearer ${init.key}`;
    let body: RequestInit["body"] = init.raw;
    if (init.body !== undefined) {
      headers["content-type"] ??= "application/json";
      body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    }
    return fn.app.request(urlPath, { method, headers, ...(body === undefined ? {} : { body }) });
  }

  /** Rows per tenant table, plus bytes reserved and used: "nothing was written" compares these. */
  async function snapshot(): Promise<Record<string, string>> {
    return withSystem(db, async (trx) => {
      const out: Record<string, string> = {};
      for (const table of ["tenants", ...TENANT_TABLES] as const) {
        const row = await trx
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string | number | bigint>().as("n"))
          .executeTakeFirstOrThrow();
        out[table] = String(row.n);
      }
      const storage = await trx
        .selectFrom("tenant_storage")
        .select((eb) => [
          eb.fn.sum<string>("used_bytes").as("used"),
          eb.fn.sum<string>("reserved_bytes").as("reserved"),
        ])
        .executeTakeFirstOrThrow();
      out.storage = `${storage.used}/${storage.reserved}`;
      const statuses = await trx.selectFrom("uploads").select(["id", "status"]).orderBy("id").execute();
      out.uploads_status = statuses.map((u) => `${u.id}:${u.status}`).join(",");
      const deployments = await trx
        .selectFrom("deployments")
        .select(["id", "status"])
        .orderBy("id")
        .execute();
      out.deployments_status = deployments.map((d) => `${d.id}:${d.status}`).join(",");
      const keys = await trx.selectFrom("api_keys").select(["id", "revoked_at"]).orderBy("id").execute();
      out.keys_revoked = keys
        .filter((k) => k.revoked_at !== null)
        .map((k) => k.id)
        .join(",");
      const tenants = await trx.selectFrom("tenants").select(["id", "status"]).orderBy("id").execute();
      out.tenants_status = tenants.map((t) => `${t.id}:${t.status}`).join(",");
      return out;
    });
  }

  return {
    db,
    store,
    fn,
    lines,
    seedTenant,
    request,
    snapshot,
    /** An operator's token (no tenant). */
    operatorToken: () => sign({ sub: "op-1", maas_platform_role: "operator" }),
    /** A token for a subject in a tenant (a member row decides the role). */
    memberToken: (subject: string, tenantId: string) => sign({ sub: subject, tenant_id: tenantId }),
    /** Freezes the clock at `date` (only with the default clock). */
    setNow(date: Date | undefined) {
      now = date;
    },
    async close() {
      await ownDb?.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Bytes with a recognisable pattern (not all zeros, so a misplaced part changes the hash). */
export function patternBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
