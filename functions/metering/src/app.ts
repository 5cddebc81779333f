import { events } from "@maas/events";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { inferenceCompletedHandler } from "./handlers/inference-completed.js";
import type { UsageIngestor } from "./usage/usage-ingestor.js";

export interface MeteringDeps extends FunctionDeps {
  ingestor: UsageIngestor;
  onShutdown?: () => Promise<void>;
}

/**
 * The metering function (DESIGN §2): idempotent usage rollups from the usage topic and spend
 * counters for quota. Handles `inference.completed` on `POST /` (one event per request, the
 * KafkaSource path); main.ts may also consume the topic directly in batches with the same ingestor.
 *
 * @example
 * const ingestor = new UsageIngestor({ store: new PostgresUsageStore(db), spend: new MemorySpendSink() });
 * const fn = createMetering({ logger, ingestor });
 * await fn.app.request("/healthz"); // 200
 */
export function createMetering(deps: MeteringDeps): MaasFunction {
  const { ingestor, ...rest } = deps;
  return createFunction({
    name: "metering",
    ...rest,
    events: {
      [events.inferenceCompleted.type]: inferenceCompletedHandler(ingestor),
    },
  });
}
