import { events } from "@maas/events";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { handleModelVersionUploaded } from "./handlers/model-version-uploaded.js";

/**
 * The pipeline function (DESIGN §2): verifies, validates and converts uploaded ONNX models. Handles
 * `model.version.uploaded`.
 *
 * @example
 * const fn = createPipeline({ logger });
 * await fn.app.request("/healthz"); // 200
 */
export function createPipeline(deps: FunctionDeps = {}): MaasFunction {
  return createFunction({
    name: "pipeline",
    ...deps,
    events: {
      [events.modelVersionUploaded.type]: handleModelVersionUploaded,
    },
  });
}
