import { authEnvSchema } from "@maas/auth";
import { flag, optionalUrl } from "@maas/config";
import { quotaEnvSchema } from "@maas/quota";
import { baseEnvSchema } from "@maas/runtime";
import { z } from "zod";

/**
 * The gateway's environment, parsed once in main.ts. DATABASE_URL absent: embedded PGlite;
 * REDIS_URL absent: in-process limits and L1-only caches; KAFKA_BROKERS absent: usage goes to K_SINK
 * (or nowhere, with a warning).
 */
export const gatewayEnvSchema = baseEnvSchema
  .extend(authEnvSchema.shape)
  .extend(quotaEnvSchema.shape)
  .extend({
    DATABASE_URL: optionalUrl(),
    REDIS_URL: optionalUrl(),
    KAFKA_BROKERS: z
      .string()
      .optional()
      .transform((v) => (v === undefined || v.trim() === "" ? undefined : v)),
    /** Estimated price of one request when the tenant has none (metering owns real prices). */
    DEFAULT_COST_MICROS: z.coerce.number().int().min(0).default(100),
    /** Route (tenant, model, version → deployment URL) cache TTL; a new deployment is seen within it. */
    ROUTE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
    QUOTA_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
    UPSTREAM_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1).default(2_000),
    /** Until the upstream's response headers (the whole inference, for a non-streaming model). */
    UPSTREAM_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1).default(60_000),
    /** Between two body chunks. */
    UPSTREAM_BODY_TIMEOUT_MS: z.coerce.number().int().min(1).default(60_000),
    /**
     * Request and response bodies of known length up to this size are read whole and sent in one
     * write (bytes untouched); larger or chunked ones stream through. Bounds memory per request.
     */
    PROXY_BUFFER_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .default(1024 * 1024),
    UPSTREAM_CONNECTIONS: z.coerce.number().int().min(1).default(128),
    /** Consecutive connect/timeout failures that open an upstream's breaker. */
    BREAKER_THRESHOLD: z.coerce.number().int().min(1).default(5),
    BREAKER_HALF_OPEN_MS: z.coerce.number().int().min(100).default(5_000),
    /** Topic of the usage events; absent: the catalog's (`maas.usage`). Tests use a throwaway one. */
    USAGE_TOPIC: z
      .string()
      .optional()
      .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim())),
    /**
     * `advertised=reachable[,…]` broker addresses: every Kafka connection to an advertised address
     * dials the mapped one instead (port-forwards, proxies; src/usage/broker-address-map.ts). Set, usage
     * goes through kafkajs (it has the socket factory this needs); unset, through @platformatic/kafka.
     */
    KAFKA_BROKER_ADDRESS_MAP: z.string().optional(),
    /**
     * Prefix of every Redis key and the invalidation channel this gateway uses (quota `<p>quota:`,
     * caches `<p>cache:<name>:`, channel `<p>cache:invalidate`). Replicas sharing limits must share
     * it; tests and the bench give each run its own.
     */
    REDIS_KEY_PREFIX: z.string().min(1).default("maas:"),
    /**
     * Usage events emitted within this window go to Kafka in one batch. Metering reads them seconds
     * later anyway; per-event sends cost the gateway ~100 µs of CPU per request (bench/gateway.ts).
     */
    USAGE_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(20),
    /**
     * Usage events are built, encoded and published by a worker thread (off the request thread);
     * false: in the request thread (usage/worker-usage-sink.ts says what it saves).
     */
    USAGE_WORKER: flag(true),
    /** Where usage events wait while Kafka is unreachable. */
    USAGE_SPOOL_DIR: z.string().default(".spool/usage"),
    USAGE_SPOOL_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024 * 1024),
    /** Warm the caches for tenants with ready deployments before becoming ready. */
    CACHE_WARM_AT_START: flag(true),
  });

export type GatewayEnv = z.output<typeof gatewayEnvSchema>;
