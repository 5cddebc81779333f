export { createMeteringMetrics, type MeteringMetrics } from "./metering-metrics.js";
export { periodEnd, periodLockKey, periodOfDate, periodStart, previousPeriod } from "./period.js";
export { costMicros, DEFAULT_PLAN, PriceBook, type PriceRow } from "./prices.js";
export { LedgerSpendSink, MemorySpendSink, type SpendSink } from "./spend-sink.js";
export { seedUsageTenant, usageEvent } from "./testing.js";
export { UsageBatchConsumer, type UsageBatchConsumerOptions } from "./usage-batch-consumer.js";
export {
  type IngestLogger,
  type IngestResult,
  UsageIngestor,
  type UsageIngestorOptions,
} from "./usage-ingestor.js";
export { type InsertedTotal, PostgresUsageStore, type UsageRow, type UsageStore } from "./usage-store.js";
