import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Histogram,
  type HistogramConfiguration,
  type Registry,
} from "prom-client";

/*
 * Get-or-create, because two functions built in one process (tests, the local runner embedding
 * several apps) may share a registry, and prom-client throws on a second registration of a name.
 */

export function counter<L extends string>(
  registry: Registry,
  config: Omit<CounterConfiguration<L>, "registers">,
): Counter<L> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) return existing as Counter<L>;
  return new Counter<L>({ ...config, registers: [registry] });
}

export function histogram<L extends string>(
  registry: Registry,
  config: Omit<HistogramConfiguration<L>, "registers">,
): Histogram<L> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) return existing as Histogram<L>;
  return new Histogram<L>({ ...config, registers: [registry] });
}

/** Process metrics (CPU, memory, event loop lag, GC) on the injected registry, once per registry. */
export function ensureDefaultMetrics(registry: Registry): void {
  if (registry.getSingleMetric("process_cpu_user_seconds_total")) return;
  collectDefaultMetrics({ register: registry });
}
