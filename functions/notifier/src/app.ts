import { events } from "@maas/events";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { notifyHandler } from "./handlers/notify.js";
import type { WebhookDispatcher } from "./webhooks/webhook-dispatcher.js";

export interface NotifierDeps extends FunctionDeps {
  dispatcher: WebhookDispatcher;
  onShutdown?: () => Promise<void>;
}

/**
 * The notifier function (DESIGN §2): sends signed webhooks (Standard Webhooks) to tenants, with
 * persisted retries and a dead-letter state. Handles `quota.threshold.crossed`, `invoice.issued`.
 *
 * @example
 * const fn = createNotifier({ logger, dispatcher: new WebhookDispatcher({ db }) });
 * await fn.app.request("/healthz"); // 200
 */
export function createNotifier(deps: NotifierDeps): MaasFunction {
  const { dispatcher, ...rest } = deps;
  const handler = notifyHandler(dispatcher);
  return createFunction({
    name: "notifier",
    ...rest,
    events: {
      [events.quotaThresholdCrossed.type]: handler,
      [events.invoiceIssued.type]: handler,
    },
  });
}
