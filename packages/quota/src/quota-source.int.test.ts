import { defaultInfra } from "@maas/config";
import {
  createDb,
  createFreshDatabase,
  type DbHandle,
  type FreshDatabase,
  migrateToLatest,
  withSystem,
} from "@maas/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CachedQuotaSource, PostgresQuotaSource } from "./quota-source.js";
import { testTenant } from "./testing/redis.js";
import { DEFAULT_QUOTAS } from "./types.js";

const pgDefault = defaultInfra.postgres;
const adminUrl =
  process.env.DATABASE_URL ??
  `postgres://${pgDefault.user}:${pgDefault.password}@${pgDefault.host}:${pgDefault.port}/${pgDefault.database}`;

let fresh: FreshDatabase;
let handle: DbHandle;
beforeAll(async () => {
  fresh = await createFreshDatabase(adminUrl, { prefix: "maas_quota_test" });
  handle = await createDb({ url: fresh.url });
  await migrateToLatest(handle.db);
});
afterAll(async () => {
  await handle?.close();
  await fresh?.drop();
});

describe("PostgresQuotaSource", () => {
  it("reads and sets a tenant's row; a tenant without one gets the defaults", async () => {
    const tenantId = testTenant();
    await withSystem(handle.db, (trx) =>
      trx
        .insertInto("tenants")
        .values({ id: tenantId, slug: tenantId.replace("_", "-"), name: "T" })
        .execute(),
    );
    const source = new PostgresQuotaSource(handle.db);
    expect(await source.get(tenantId)).toEqual(DEFAULT_QUOTAS);
    const set = await source.set(tenantId, { maxQps: 77, monthlyBudgetMicros: 5_000_000_000n });
    expect(set).toEqual({ ...DEFAULT_QUOTAS, maxQps: 77, monthlyBudgetMicros: 5_000_000_000n });
    await source.set(tenantId, { maxConcurrency: 9 });
    expect(await source.get(tenantId)).toMatchObject({ maxQps: 77, maxConcurrency: 9 });
  });

  it("serves repeated reads from the in-process cache until invalidated", async () => {
    const tenantId = testTenant();
    await withSystem(handle.db, (trx) =>
      trx
        .insertInto("tenants")
        .values({ id: tenantId, slug: tenantId.replace("_", "-"), name: "T" })
        .execute(),
    );
    const pg = new PostgresQuotaSource(handle.db);
    await pg.set(tenantId, { maxQps: 5 });
    const cached = new CachedQuotaSource(pg, { ttlMs: 60_000 });
    await Promise.all(Array.from({ length: 10 }, () => cached.get(tenantId)));
    expect((await cached.get(tenantId)).maxQps).toBe(5);
    expect(cached.misses).toBe(1);
    await pg.set(tenantId, { maxQps: 6 });
    expect((await cached.get(tenantId)).maxQps).toBe(5);
    cached.invalidate(tenantId);
    expect((await cached.get(tenantId)).maxQps).toBe(6);
  });
});
