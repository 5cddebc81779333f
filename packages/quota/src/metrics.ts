import { Counter, Gauge, type Registry } from "prom-client";

// Get-or-create: several deciders (tests, co-hosted functions) may share one registry, and
// prom-client throws on a second registration of a name.
function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge;
  return new Gauge({ name, help, registers: [registry] });
}

export interface QuotaMetrics {
  decisions: Counter<"outcome" | "limit" | "path">;
  redisTransitions: Counter<"to">;
  redisFailures: Counter<never>;
  degraded: Gauge;
  backlogSynced: Counter<never>;
}

export function quotaMetrics(registry: Registry): QuotaMetrics {
  return {
    decisions: counter(registry, "quota_decisions_total", "Quota decisions by outcome, limit and path", [
      "outcome",
      "limit",
      "path",
    ]),
    redisTransitions: counter(
      registry,
      "quota_redis_state_transitions_total",
      "Transitions between Redis-backed and degraded (Redis unreachable) decisions",
      ["to"],
    ),
    redisFailures: counter(
      registry,
      "quota_redis_failures_total",
      "Redis calls that failed or timed out",
      [],
    ),
    degraded: gauge(registry, "quota_redis_degraded", "1 while decisions run on the Redis-down policy"),
    backlogSynced: counter(
      registry,
      "quota_local_admissions_synced_total",
      "Requests admitted on local limits while Redis was unreachable, added to Redis's counters after it answered again",
      [],
    ),
  };
}
