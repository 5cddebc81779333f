import { events } from "@maas/events";
import { KubeApiError, renderTenantNamespace } from "@maas/k8s";
import { type EventHandler, NonRetriableError } from "@maas/runtime";
import type { DeployerServices } from "../services.js";

/**
 * `io.maas.tenant.created.v1`: apply the tenant's namespace, quota, limits and network policies
 * (server-side apply: a redelivery changes nothing).
 */
export function tenantCreated(services: DeployerServices): EventHandler {
  return async (event, { logger }) => {
    const data = events.tenantCreated.data.parse(event.data);
    try {
      for (const object of renderTenantNamespace(
        { id: data.tenantId, slug: data.slug },
        services.namespace,
      )) {
        await services.applier.apply(object);
      }
    } catch (err) {
      if (err instanceof KubeApiError && !err.retriable)
        throw new NonRetriableError(err.message, { cause: err });
      throw err;
    }
    logger.info({ slug: data.slug }, "tenant namespace applied");
  };
}
