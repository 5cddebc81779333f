import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";

/**
 * The control function (DESIGN §2): the control plane API: tenants, API keys, models, versions, uploads,
 * deployments, quotas, usage, invoices. Only the runtime's endpoints for now; its routes arrive with issue
 * 4.
 *
 * @example
 * const fn = createControl({ logger });
 * await fn.app.request("/healthz"); // 200
 */
export function createControl(deps: FunctionDeps = {}): MaasFunction {
  return createFunction({
    name: "control",
    ...deps,
  });
}
