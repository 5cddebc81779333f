import { events } from "@maas/events";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { handleDeploymentDeleted } from "./handlers/deployment-deleted.js";
import { handleDeploymentRequested } from "./handlers/deployment-requested.js";
import { handleTenantCreated } from "./handlers/tenant-created.js";

/**
 * The deployer function (DESIGN §2): renders and applies per-model Knative Services in tenant namespaces.
 * Handles `deployment.requested`, `deployment.deleted`, `tenant.created`.
 *
 * @example
 * const fn = createDeployer({ logger });
 * await fn.app.request("/healthz"); // 200
 */
export function createDeployer(deps: FunctionDeps = {}): MaasFunction {
  return createFunction({
    name: "deployer",
    ...deps,
    events: {
      [events.deploymentRequested.type]: handleDeploymentRequested,
      [events.deploymentDeleted.type]: handleDeploymentDeleted,
      [events.tenantCreated.type]: handleTenantCreated,
    },
  });
}
