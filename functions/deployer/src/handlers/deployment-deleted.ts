import type { EventHandler } from "@maas/runtime";

/**
 * `io.maas.deployment.deleted.v1`. Thin for now: it only records that the event arrived, so delivery can
 * be tested end to end; the real work lands with issue 5. It must stay idempotent on `event.id` (delivery
 * is at-least-once).
 */
export const handleDeploymentDeleted: EventHandler = async (event, { logger }) => {
  // TODO(issue 5): delete the deployment's Knative Service.
  logger.info({ source: event.source, subject: event.subject }, "deployment.deleted received");
};
