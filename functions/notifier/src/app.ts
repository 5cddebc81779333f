import { events } from "@maas/events";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { handleInvoiceIssued } from "./handlers/invoice-issued.js";
import { handleQuotaThresholdCrossed } from "./handlers/quota-threshold-crossed.js";

/**
 * The notifier function (DESIGN §2): sends signed webhooks to tenants. Handles `quota.threshold.crossed`,
 * `invoice.issued`.
 *
 * @example
 * const fn = createNotifier({ logger });
 * await fn.app.request("/healthz"); // 200
 */
export function createNotifier(deps: FunctionDeps = {}): MaasFunction {
  return createFunction({
    name: "notifier",
    ...deps,
    events: {
      [events.quotaThresholdCrossed.type]: handleQuotaThresholdCrossed,
      [events.invoiceIssued.type]: handleInvoiceIssued,
    },
  });
}
