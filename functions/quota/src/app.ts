import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";

/**
 * The quota function (DESIGN §2): admit/release decisions (QPS, concurrency, budget, counts, storage) and
 * threshold events. Only the runtime's endpoints for now; its routes arrive with issue 6.
 *
 * @example
 * const fn = createQuota({ logger });
 * await fn.app.request("/healthz"); // 200
 */
export function createQuota(deps: FunctionDeps = {}): MaasFunction {
  return createFunction({
    name: "quota",
    ...deps,
  });
}
