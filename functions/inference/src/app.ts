import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import type { ModelServer } from "./model/model-server.js";
import { registerV2Health } from "./routes/v2-health.js";
import { registerV2Infer } from "./routes/v2-infer.js";
import { registerV2ModelMetadata } from "./routes/v2-model-metadata.js";
import { registerV2ModelReady } from "./routes/v2-model-ready.js";
import { registerV2ServerMetadata } from "./routes/v2-server-metadata.js";

export interface InferenceDeps extends FunctionDeps {
  /** The served model version; without one only the health endpoints answer. */
  model?: ModelServer;
  /** Infer bodies beyond this get 413. Default 64 MiB. */
  maxRequestBytes?: number;
  onShutdown?: () => Promise<void>;
}

/**
 * The inference function (DESIGN §2, §7): serves one deployed model version over the Open Inference
 * Protocol v2 REST API (health, server and model metadata, model readiness, infer with JSON and binary
 * tensors). v2 routes answer errors in v2's own `{ "error": "…" }` shape because stock KServe and
 * Triton clients call them; every other route keeps the platform's error body.
 *
 * @example
 * const fn = createInference({ logger, model });
 * await model.start();
 * fn.setReady(true);
 * await fn.app.request("/v2/models/mlp/ready"); // 200
 */
export function createInference(deps: InferenceDeps = {}): MaasFunction {
  const { model, maxRequestBytes, ...rest } = deps;
  const fn = createFunction({
    name: "inference",
    ...rest,
    routes: (app) => {
      // v2 readiness is the function's readiness: ready only after warm-up.
      registerV2Health(app, { isReady: () => fn.isReady() });
      registerV2ServerMetadata(app, { name: "maas-inference", version: deps.version ?? "0.1.0" });
      if (model) {
        registerV2ModelMetadata(app, model);
        registerV2ModelReady(app, model);
        registerV2Infer(app, model, { maxRequestBytes: maxRequestBytes ?? 64 * 1024 * 1024 });
      }
    },
  });
  return fn;
}
