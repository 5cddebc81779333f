import type { EventHandler } from "@maas/runtime";

/**
 * `dev.knative.sources.ping`. Thin for now: it only records that the event arrived, so delivery can be
 * tested end to end; the real work lands with issue 7. It must stay idempotent on `event.id` (delivery is
 * at-least-once).
 */
export const handlePing: EventHandler = async (event, { logger }) => {
  // TODO(issue 7): run the scheduled job the PingSource names (daily running totals, monthly close into
  // invoices, idempotent per tenant and period), emit invoice.issued.
  logger.info({ source: event.source, subject: event.subject }, "dev.knative.sources.ping received");
};
