import { events } from "@maas/events";
import { createFunction, type FunctionDeps, type FunctionOptions, type MaasFunction } from "@maas/runtime";
import { deploymentDeleted } from "./handlers/deployment-deleted.js";
import { deploymentRequested } from "./handlers/deployment-requested.js";
import { tenantCreated } from "./handlers/tenant-created.js";
import type { DeployerServices } from "./services.js";

export type { DeployerServices } from "./services.js";

/**
 * The deployer function (DESIGN §2): renders and applies per-model Knative Services in tenant
 * namespaces. Handles `deployment.requested`, `deployment.deleted`, `tenant.created`.
 *
 * @example
 * const fn = createDeployer({ logger }, { db, applier, validator, render: { image }, modelUriBase, readyTimeoutMs });
 * await fn.app.request("/healthz"); // 200
 */
export function createDeployer(
  deps: FunctionDeps & Pick<FunctionOptions, "onShutdown">,
  services: DeployerServices,
): MaasFunction {
  return createFunction({
    name: "deployer",
    ...deps,
    events: {
      [events.deploymentRequested.type]: deploymentRequested(services),
      [events.deploymentDeleted.type]: deploymentDeleted(services),
      [events.tenantCreated.type]: tenantCreated(services),
    },
  });
}
