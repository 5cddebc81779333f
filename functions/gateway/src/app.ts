import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";

/**
 * The gateway function (DESIGN §2): the Open Inference Protocol v2 data plane: authenticate, resolve the
 * tenant, ask quota, route to the model's inference service, emit usage. Only the runtime's endpoints for
 * now; its routes arrive with issue 6.
 *
 * @example
 * const fn = createGateway({ logger });
 * await fn.app.request("/healthz"); // 200
 */
export function createGateway(deps: FunctionDeps = {}): MaasFunction {
  return createFunction({
    name: "gateway",
    ...deps,
  });
}
