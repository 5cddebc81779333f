import type { EventHandler } from "@maas/runtime";

/**
 * `io.maas.inference.completed.v1`. Thin for now: it only records that the event arrived, so delivery can
 * be tested end to end; the real work lands with issue 7. It must stay idempotent on `event.id` (delivery
 * is at-least-once).
 */
export const handleInferenceCompleted: EventHandler = async (event, { logger }) => {
  // TODO(issue 7): insert the usage row keyed by the event id (a redelivery changes nothing), roll up per
  // tenant x model x hour, advance the month-to-date spend counter.
  logger.info({ source: event.source, subject: event.subject }, "inference.completed received");
};
