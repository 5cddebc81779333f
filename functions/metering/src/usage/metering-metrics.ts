import { Counter, Histogram, type Registry } from "prom-client";

/**
 * Metering metrics (read by infra/grafana/spend.json):
 * - `metering_events_total{outcome}`: usage events per batch, `inserted` (first seen) or `duplicate`
 *   (redeliveries, in-batch repeats and non-usage events: nothing changed for them).
 * - `metering_spend_micros_total{tenant}`: billed cost of newly inserted events, in micro-units. Only
 *   new rows count, so a redelivered batch never inflates it; the invoice stays the truth (Postgres).
 * - `metering_batch_duration_seconds`: one ingest call, pricing to spend counters.
 */
export interface MeteringMetrics {
  events: Counter<"outcome">;
  spendMicros: Counter<"tenant">;
  batchDuration: Histogram<string>;
}

/**
 * Registers the metering metrics on the function's registry (never prom-client's global one).
 *
 * @example
 * const registry = new Registry();
 * const ingestor = new UsageIngestor({ store, spend, metrics: createMeteringMetrics(registry) });
 * const fn = createMetering({ ingestor, registry });
 */
export function createMeteringMetrics(registry: Registry): MeteringMetrics {
  const registers = [registry];
  return {
    events: new Counter({
      name: "metering_events_total",
      help: "Usage events ingested, by outcome (inserted, duplicate)",
      labelNames: ["outcome"] as const,
      registers,
    }),
    spendMicros: new Counter({
      name: "metering_spend_micros_total",
      help: "Billed cost of newly inserted usage events, micro-units, by tenant",
      labelNames: ["tenant"] as const,
      registers,
    }),
    batchDuration: new Histogram({
      name: "metering_batch_duration_seconds",
      help: "Time to ingest one usage batch (pricing, insert, spend counters)",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
