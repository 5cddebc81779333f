import { Counter, type Registry } from "prom-client";

export interface CacheMetrics {
  /** `level` l1|l2, `result` hit|miss: hit ratio per level = hit / (hit + miss). */
  requests: Counter<"cache" | "level" | "result">;
  invalidations: Counter<"cache" | "origin">;
  redisErrors: Counter<"cache" | "op">;
}

/** The cache's counters, registered once per registry (several caches share them by label). */
export function cacheMetrics(registry: Registry): CacheMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] });
  return {
    requests: counter("cache_requests_total", "Two-level cache lookups by level and result", [
      "cache",
      "level",
      "result",
    ]),
    invalidations: counter("cache_invalidations_total", "Keys dropped by invalidation", ["cache", "origin"]),
    redisErrors: counter("cache_redis_errors_total", "Redis calls of the cache that failed", ["cache", "op"]),
  };
}
