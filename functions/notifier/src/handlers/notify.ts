import type { EventHandler } from "@maas/runtime";
import type { WebhookDispatcher } from "../webhooks/webhook-dispatcher.js";

const SHORT: Record<string, string> = {
  "io.maas.quota.threshold.crossed.v1": "quota.threshold.crossed",
  "io.maas.invoice.issued.v1": "invoice.issued",
};

/**
 * `quota.threshold.crossed` and `invoice.issued`: enqueue one delivery per matching webhook (the
 * durable part, idempotent on the event id), then try the due deliveries at once; failures are
 * retried by the dispatcher's own schedule, not by the broker.
 */
export function notifyHandler(dispatcher: WebhookDispatcher): EventHandler {
  return async function handleNotify(event, { logger }) {
    const enqueued = await dispatcher.enqueue(event);
    logger.info({ eventId: event.id, enqueued }, `${SHORT[event.type] ?? event.type} received`);
    if (enqueued > 0) {
      const r = await dispatcher.runDue();
      logger.info(r, "webhook deliveries attempted");
    }
  };
}
