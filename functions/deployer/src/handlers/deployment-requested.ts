import type { EventHandler } from "@maas/runtime";

/**
 * `io.maas.deployment.requested.v1`. Thin for now: it only records that the event arrived, so delivery can
 * be tested end to end; the real work lands with issue 5. It must stay idempotent on `event.id` (delivery
 * is at-least-once).
 */
export const handleDeploymentRequested: EventHandler = async (event, { logger }) => {
  // TODO(issue 5): render the model's Knative Service (KPA, scale to zero, GPU limits) in tenant-<slug>,
  // apply it, watch readiness, emit deployment.ready or .failed.
  logger.info({ source: event.source, subject: event.subject }, "deployment.requested received");
};
