import { knativePing } from "@maas/events";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { type PingDeps, pingHandler } from "./handlers/ping.js";

export interface BillingDeps extends FunctionDeps, PingDeps {
  onShutdown?: () => Promise<void>;
}

/**
 * The billing function (DESIGN §2): closes billing periods into invoices on a PingSource schedule
 * (`{"job":"close-period"}`) and keeps daily running totals (`{"job":"daily-rollup"}`). Handles
 * `dev.knative.sources.ping`.
 *
 * @example
 * const fn = createBilling({ logger, db });
 * await fn.app.request("/healthz"); // 200
 */
export function createBilling(deps: BillingDeps): MaasFunction {
  const { db, spend, clock, currency, ...rest } = deps;
  return createFunction({
    name: "billing",
    ...rest,
    events: {
      [knativePing.type]: pingHandler({
        db,
        ...(spend ? { spend } : {}),
        ...(clock ? { clock } : {}),
        ...(currency ? { currency } : {}),
      }),
    },
  });
}
