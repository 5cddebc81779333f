import { flag } from "@maas/config";
import { z } from "zod";

/**
 * The quota module's settings, for the functions that build a decider (`parseEnv(quotaEnvSchema)`).
 *
 * @example
 * const env = parseEnv(baseEnvSchema.extend(quotaEnvSchema.shape), process.env);
 */
export const quotaEnvSchema = z.object({
  /** What decisions do when Redis is unreachable (packages/quota/README.md). */
  QUOTA_REDIS_DOWN_POLICY: z.enum(["degrade", "fail-open", "fail-closed"]).default("degrade"),
  /** Replicas sharing the limits; each takes limit / replicas while degraded. */
  EXPECTED_REPLICAS: z.coerce.number().int().min(1).default(1),
  /** A slower Redis call counts as a failure (README "Redis down": why 250 ms, not 50). */
  QUOTA_REDIS_TIMEOUT_MS: z.coerce.number().int().min(1).default(250),
  /** Failures in a row before decisions stop trying Redis (one trial per second after). */
  QUOTA_BREAKER_FAILURES: z.coerce.number().int().min(1).default(3),
  QUOTA_LEASE_MS: z.coerce.number().int().min(1000).default(30_000),
  QUOTA_MODE: z.enum(["pipeline", "script"]).default("pipeline"),
  /**
   * Releases wait up to this long to share the next decision's Redis write (0: each its own). A
   * slot frees that much later; in-flight still never exceeds the limit (QuotaDeciderOptions).
   */
  QUOTA_RELEASE_BATCH_MS: z.coerce.number().int().min(0).max(100).default(2),
  /** Decisions of one event-loop turn share one Redis write (QuotaDeciderOptions.coalesceWrites). */
  QUOTA_COALESCE_WRITES: flag(true),
});

export type QuotaEnv = z.infer<typeof quotaEnvSchema>;
