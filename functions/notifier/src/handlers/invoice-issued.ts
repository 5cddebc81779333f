import type { EventHandler } from "@maas/runtime";

/**
 * `io.maas.invoice.issued.v1`. Thin for now: it only records that the event arrived, so delivery can be
 * tested end to end; the real work lands with issue 7. It must stay idempotent on `event.id` (delivery is
 * at-least-once).
 */
export const handleInvoiceIssued: EventHandler = async (event, { logger }) => {
  // TODO(issue 7): deliver a signed webhook (Standard Webhooks) to the tenant's registered endpoints, with
  // retries.
  logger.info({ source: event.source, subject: event.subject }, "invoice.issued received");
};
