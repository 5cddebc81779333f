import { knativePing } from "@maas/events";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { handlePing } from "./handlers/ping.js";

/**
 * The billing function (DESIGN §2): closes billing periods into invoices on a PingSource schedule. Handles
 * `dev.knative.sources.ping`.
 *
 * @example
 * const fn = createBilling({ logger });
 * await fn.app.request("/healthz"); // 200
 */
export function createBilling(deps: FunctionDeps = {}): MaasFunction {
  return createFunction({
    name: "billing",
    ...deps,
    events: {
      [knativePing.type]: handlePing,
    },
  });
}
