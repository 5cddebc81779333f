import { authFromEnv, type CachedCredential, createVerifier } from "@maas/auth";
import {
  PRINCIPAL_CACHE,
  QUOTAS_CACHE,
  quotasCodec,
  TwoLevelCache,
  TwoLevelQuotaSource,
  twoLevelPrincipalCache,
} from "@maas/cache";
import { createDb, migrateToLatest, withSystem } from "@maas/db";
import { createQuotaDecider, PostgresQuotaSource, type Quotas } from "@maas/quota";
import type { Logger } from "@maas/runtime";
import { Redis } from "ioredis";
import type { Registry } from "prom-client";
import type { GatewayEnv as Env } from "./env.js";
import { Upstreams } from "./proxy/upstreams.js";
import { createRouteResolver, type Route } from "./routing/route-resolver.js";
import type { GatewayServices, UsageSink } from "./services.js";
import { buildUsagePipeline, type UsageEnv, type UsagePipeline } from "./usage/usage-pipeline.js";
import { WorkerUsageSink } from "./usage/worker-usage-sink.js";

export interface BuiltGateway {
  services: GatewayServices;
  /** Subscribes caches, warms them for active tenants, registers the quota scripts, opens the spool. */
  warmUp(): Promise<void>;
  /** Flushes usage, closes pools and connections. */
  close(): Promise<void>;
}

/**
 * Builds the gateway's services once from its parsed env (main.ts; the bench starts processes that
 * run main.ts).
 *
 * @example
 * const built = buildGatewayServices(env, { logger, registry });
 * const fn = createGateway(built.services, { logger, registry, onShutdown: built.close });
 * await runFunction(fn, env, { warmUp: built.warmUp });
 */
export function buildGatewayServices(env: Env, deps: { logger: Logger; registry: Registry }): BuiltGateway {
  const { logger, registry } = deps;
  const dbHandle = createDb(env.DATABASE_URL === undefined ? {} : { url: env.DATABASE_URL });
  const db = dbHandle.db;

  // Separate connections: decisions must not queue behind cache traffic, and a subscribed client
  // can do nothing else. No offline queue: a command while disconnected fails at once (the quota
  // module's Redis-down policy and the caches' fallbacks take over).
  const redisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true } as const;
  const redisUrl = env.REDIS_URL;
  if (redisUrl === undefined) logger.warn("REDIS_URL not set: per-instance limits, in-process caches only");
  const quotaRedis = redisUrl === undefined ? new Redis(redisOptions) : new Redis(redisUrl, redisOptions);
  const cacheRedis =
    redisUrl === undefined ? undefined : new Redis(redisUrl, { ...redisOptions, commandTimeout: 100 });
  const subscriber = redisUrl === undefined ? undefined : new Redis(redisUrl, { lazyConnect: true });
  for (const r of [quotaRedis, cacheRedis, subscriber]) r?.on("error", () => undefined);

  // Defaults match @maas/cache's and @maas/quota's own (`maas:cache:<name>:`, `maas:quota:`).
  const prefix = env.REDIS_KEY_PREFIX;
  const channel = `${prefix}cache:invalidate`;
  const cacheBase = { redis: cacheRedis, subscriber, registry, logger, channel };
  const keyPrefix = (name: string) => `${prefix}cache:${name}:`;
  const principalCache = new TwoLevelCache<CachedCredential>({
    ...cacheBase,
    name: PRINCIPAL_CACHE,
    keyPrefix: keyPrefix(PRINCIPAL_CACHE),
    ttlMs: env.AUTH_CACHE_TTL_MS,
  });
  const routeCache = new TwoLevelCache<Route | null>({
    ...cacheBase,
    name: "route",
    keyPrefix: keyPrefix("route"),
    ttlMs: env.ROUTE_CACHE_TTL_MS,
  });
  const quotasCache = new TwoLevelCache<Quotas>({
    ...cacheBase,
    name: QUOTAS_CACHE,
    keyPrefix: keyPrefix(QUOTAS_CACHE),
    ttlMs: env.QUOTA_CACHE_TTL_MS,
    codec: quotasCodec,
  });

  const auth = authFromEnv(env, db);
  const verifier = createVerifier({
    db,
    jwt: auth.jwt,
    cache: env.AUTH_CACHE_TTL_MS > 0 ? twoLevelPrincipalCache(principalCache) : undefined,
    lastUsed: auth.lastUsed,
    ttlMs: env.AUTH_CACHE_TTL_MS,
    negativeTtlMs: env.AUTH_NEGATIVE_CACHE_TTL_MS,
  });
  const quotaSource = new TwoLevelQuotaSource(new PostgresQuotaSource(db), quotasCache);
  const quota = createQuotaDecider({
    redis: quotaRedis,
    quotas: quotaSource,
    keyPrefix: `${prefix}quota:`,
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
  const routes = createRouteResolver({ db, cache: routeCache });
  const upstreams = new Upstreams({
    connections: env.UPSTREAM_CONNECTIONS,
    connectTimeoutMs: env.UPSTREAM_CONNECT_TIMEOUT_MS,
    headersTimeoutMs: env.UPSTREAM_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: env.UPSTREAM_BODY_TIMEOUT_MS,
    breakerThreshold: env.BREAKER_THRESHOLD,
    breakerHalfOpenMs: env.BREAKER_HALF_OPEN_MS,
  });

  const usageEnv: UsageEnv = {
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    KAFKA_BROKER_ADDRESS_MAP: env.KAFKA_BROKER_ADDRESS_MAP,
    USAGE_TOPIC: env.USAGE_TOPIC,
    USAGE_SPOOL_DIR: env.USAGE_SPOOL_DIR,
    USAGE_SPOOL_MAX_BYTES: env.USAGE_SPOOL_MAX_BYTES,
    USAGE_LINGER_MS: env.USAGE_LINGER_MS,
    K_SINK: env.K_SINK,
  };
  const usage: UsageSink & { start(): Promise<void>; close(): Promise<void> } = env.USAGE_WORKER
    ? new WorkerUsageSink({
        env: usageEnv,
        logger,
        logLevel: env.LOG_LEVEL,
        loggerBase: { service: env.K_SERVICE, revision: env.K_REVISION },
        registry,
      })
    : inThreadUsage(buildUsagePipeline(usageEnv, { logger, registry }));

  const services: GatewayServices = {
    verifier,
    routes,
    quota,
    upstreams,
    usage,
    bufferBytes: env.PROXY_BUFFER_BYTES,
    estimateCostMicros: () => env.DEFAULT_COST_MICROS,
  };

  return {
    services,
    async warmUp() {
      if (env.DATABASE_URL === undefined) await migrateToLatest(db);
      await Promise.all([cacheRedis?.connect(), subscriber?.connect(), redisUrl && quotaRedis.connect()]);
      await Promise.all([principalCache.start(), routeCache.start(), quotasCache.start()]);
      if (redisUrl !== undefined) await quota.warmUp();
      await usage.start();
      if (env.CACHE_WARM_AT_START) {
        const warmed = await routes.warm();
        const tenants = await quotaTenants(routes);
        logger.info({ routes: warmed, tenants: tenants.length }, "caches warmed for active tenants");
      }
    },
    async close() {
      await usage.close();
      await upstreams.close();
      for (const r of [quotaRedis, cacheRedis, subscriber]) r?.disconnect();
      await dbHandle.close();
    },
  };

  // Quotas of the tenants whose routes were warmed: the first decision then reads no database.
  async function quotaTenants(_routes: typeof routes): Promise<string[]> {
    const rows = await withSystem(db, (trx) =>
      trx.selectFrom("deployments").select("tenant_id").where("status", "=", "ready").distinct().execute(),
    ).catch(() => []);
    const ids = rows.map((r) => r.tenant_id);
    await quotasCache.warm(ids, async (id) => ({ value: await new PostgresQuotaSource(db).get(id) }));
    return ids;
  }
}

/** The usage pipeline in the request thread (USAGE_WORKER=false). */
function inThreadUsage(
  pipeline: UsagePipeline,
): UsageSink & { start(): Promise<void>; close(): Promise<void> } {
  return {
    record: (usage) => pipeline.usage.record(usage),
    start: () => pipeline.usage.start(),
    close: () => pipeline.close(),
  };
}
