import { events } from "@maas/events";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { handleInferenceCompleted } from "./handlers/inference-completed.js";

/**
 * The metering function (DESIGN §2): idempotent usage rollups from the usage topic and spend counters for
 * quota. Handles `inference.completed`.
 *
 * @example
 * const fn = createMetering({ logger });
 * await fn.app.request("/healthz"); // 200
 */
export function createMetering(deps: FunctionDeps = {}): MaasFunction {
  return createFunction({
    name: "metering",
    ...deps,
    events: {
      [events.inferenceCompleted.type]: handleInferenceCompleted,
    },
  });
}
