import { authEnvSchema, authFromEnv } from "@maas/auth";
import { QUOTAS_CACHE, quotasCodec, TwoLevelCache, TwoLevelQuotaSource } from "@maas/cache";
import { optionalUrl } from "@maas/config";
import { createDb, type Database, migrateToLatest, withSystem } from "@maas/db";
import { createQuotaDecider, PostgresQuotaSource, type Quotas, quotaEnvSchema, quotaKeys } from "@maas/quota";
import { baseEnvSchema, type Logger } from "@maas/runtime";
import { Redis } from "ioredis";
import type { Kysely } from "kysely";
import type { Registry } from "prom-client";
import type { z } from "zod";
import type { HoldingsReader, QuotaServices } from "./services.js";

export const quotaFunctionEnvSchema = baseEnvSchema
  .extend(authEnvSchema.shape)
  .extend(quotaEnvSchema.shape)
  .extend({ DATABASE_URL: optionalUrl(), REDIS_URL: optionalUrl() });
export type QuotaFunctionEnv = z.output<typeof quotaFunctionEnvSchema>;

/** Models (not deleted) and storage bytes, read as the system role. */
export function postgresHoldings(db: Kysely<Database>): HoldingsReader {
  return {
    holdings: (tenantId) =>
      withSystem(db, async (trx) => {
        const models = await trx
          .selectFrom("models")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .where("tenant_id", "=", tenantId)
          .where("deleted_at", "is", null)
          .executeTakeFirst();
        const storage = await trx
          .selectFrom("tenant_storage")
          .select(["used_bytes", "reserved_bytes"])
          .where("tenant_id", "=", tenantId)
          .executeTakeFirst();
        return {
          models: Number(models?.n ?? 0),
          storageUsedBytes: BigInt(storage?.used_bytes ?? 0),
          storageReservedBytes: BigInt(storage?.reserved_bytes ?? 0),
        };
      }),
  };
}

/**
 * Builds the quota function's services once from its env.
 *
 * @example
 * const built = buildQuotaServices(env, { logger, registry });
 */
export function buildQuotaServices(env: QuotaFunctionEnv, deps: { logger: Logger; registry: Registry }) {
  const { logger, registry } = deps;
  const dbHandle = createDb(env.DATABASE_URL === undefined ? {} : { url: env.DATABASE_URL });
  const db = dbHandle.db;
  const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true } as const;
  const redis = env.REDIS_URL === undefined ? new Redis(options) : new Redis(env.REDIS_URL, options);
  const subscriber =
    env.REDIS_URL === undefined ? undefined : new Redis(env.REDIS_URL, { lazyConnect: true });
  for (const r of [redis, subscriber]) r?.on("error", () => undefined);
  const cache = new TwoLevelCache<Quotas>({
    name: QUOTAS_CACHE,
    redis: env.REDIS_URL === undefined ? undefined : redis,
    subscriber,
    ttlMs: 5_000,
    codec: quotasCodec,
    registry,
    logger,
  });
  const table = new PostgresQuotaSource(db);
  const source = new TwoLevelQuotaSource(table, cache);
  const decider = createQuotaDecider({
    redis,
    quotas: source,
    mode: env.QUOTA_MODE,
    releaseBatchMs: env.QUOTA_RELEASE_BATCH_MS,
    coalesceWrites: env.QUOTA_COALESCE_WRITES,
    leaseMs: env.QUOTA_LEASE_MS,
    redisTimeoutMs: env.QUOTA_REDIS_TIMEOUT_MS,
    breakerFailures: env.QUOTA_BREAKER_FAILURES,
    redisDownPolicy: env.QUOTA_REDIS_DOWN_POLICY,
    expectedReplicas: env.EXPECTED_REPLICAS,
    registry,
    logger,
  });
  const keys = quotaKeys("maas:quota:");
  const services: QuotaServices = {
    verifier: authFromEnv(env, db).verifier,
    decider,
    store: {
      get: (tenantId) => source.get(tenantId),
      async set(tenantId, patch) {
        const quotas = await table.set(tenantId, patch);
        // Every replica (gateways included) drops the cached quotas through pub/sub.
        await source.invalidate(tenantId);
        return quotas;
      },
    },
    holdings: postgresHoldings(db),
    live: {
      async currentQps(tenantId) {
        // The sliding window's own estimate: previous second weighted by what is left of it + this one.
        const now = Date.now();
        const w = Math.floor(now / 1000);
        const [cur, prev] = await redis.mget(keys.rateWindow(tenantId, w), keys.rateWindow(tenantId, w - 1));
        const elapsed = (now % 1000) / 1000;
        return Math.round(Number(prev ?? 0) * (1 - elapsed) + Number(cur ?? 0));
      },
      inFlight: (tenantId) => decider.inFlight(tenantId),
      async monthToDateMicros(tenantId) {
        const period = new Date().toISOString().slice(0, 7);
        return Number((await redis.get(keys.spend(tenantId, period))) ?? 0);
      },
    },
  };
  return {
    services,
    async warmUp() {
      if (env.DATABASE_URL === undefined) await migrateToLatest(db);
      if (env.REDIS_URL !== undefined) {
        await Promise.all([redis.connect(), subscriber?.connect()]);
        await cache.start();
        await decider.warmUp();
      }
    },
    async close() {
      redis.disconnect();
      subscriber?.disconnect();
      await dbHandle.close();
    },
  };
}
