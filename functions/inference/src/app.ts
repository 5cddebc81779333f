import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { registerV2Health } from "./routes/v2-health.js";

/**
 * The inference function (DESIGN §2): serves one deployed model version over the Open Inference Protocol
 * v2. At this stage it serves only the v2 health endpoints; model loading, warm-up, batching and `infer`
 * arrive with issue 5.
 *
 * @example
 * const fn = createInference({ logger });
 * fn.setReady(true);
 * await fn.app.request("/v2/health/ready"); // 200
 */
export function createInference(deps: FunctionDeps = {}): MaasFunction {
  const fn = createFunction({
    name: "inference",
    ...deps,
    // v2 readiness is the function's readiness: ready only after warm-up (issue 5).
    routes: (app) => registerV2Health(app, { isReady: () => fn.isReady() }),
  });
  return fn;
}
