import { events } from "@maas/events";
import { KubeApiError, tenantNamespace } from "@maas/k8s";
import { type EventHandler, NonRetriableError } from "@maas/runtime";
import { loadDeploymentTarget, markDeleted } from "../deployment-store.js";
import type { DeployerServices } from "../services.js";

/**
 * `io.maas.deployment.deleted.v1`: delete the Knative Service, then mark the row deleted. Idempotent:
 * a Service already gone and a row already deleted are both fine.
 */
export function deploymentDeleted(services: DeployerServices): EventHandler {
  return async (event, { logger }) => {
    const data = events.deploymentDeleted.data.parse(event.data);
    const target = await loadDeploymentTarget(services.db, data.deploymentId);
    if (!target || target.deployment.tenantId !== data.tenantId) {
      logger.info("deployment.deleted for an unknown deployment: nothing to do");
      return;
    }
    try {
      const deleted = await services.applier.delete({
        apiVersion: "serving.knative.dev/v1",
        kind: "Service",
        namespace: tenantNamespace(target.tenantSlug),
        name: target.deployment.name,
      });
      logger.info({ deleted }, deleted ? "service deleted" : "service was already gone");
    } catch (err) {
      if (err instanceof KubeApiError && !err.retriable)
        throw new NonRetriableError(err.message, { cause: err });
      throw err;
    }
    await markDeleted(services.db, data.deploymentId);
  };
}
