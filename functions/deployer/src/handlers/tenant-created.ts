import type { EventHandler } from "@maas/runtime";

/**
 * `io.maas.tenant.created.v1`. Thin for now: it only records that the event arrived, so delivery can be
 * tested end to end; the real work lands with issue 5. It must stay idempotent on `event.id` (delivery is
 * at-least-once).
 */
export const handleTenantCreated: EventHandler = async (event, { logger }) => {
  // TODO(issue 5): prepare the tenant namespace (ResourceQuota, LimitRange, NetworkPolicy).
  logger.info({ source: event.source, subject: event.subject }, "tenant.created received");
};
