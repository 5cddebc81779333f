import { events } from "@maas/events";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { modelVersionUploadedHandler } from "./handlers/model-version-uploaded.js";
import type { PipelineServices } from "./services.js";

export { DEFAULT_PROCESS_OPTIONS, processModel } from "./process/process-model.js";
export { ProcessingFailedError, runInWorker } from "./process/run-in-worker.js";
export type * from "./process/types.js";
export type { ModelProcessor, PipelineServices } from "./services.js";
export type { VariantRecord } from "./store/version-store.js";

/**
 * The pipeline function (DESIGN §2): verifies, validates and converts uploaded ONNX models. Handles
 * `model.version.uploaded`; its verdicts leave through the outbox (`model.version.ready` / `.rejected`).
 *
 * @example
 * const fn = createPipeline({ logger }, { db, store: new FsObjectStore({ root: ".local/objects" }) });
 * await fn.app.request("/healthz"); // 200
 */
export function createPipeline(
  deps: FunctionDeps & { onShutdown?: () => Promise<void> },
  services: PipelineServices,
): MaasFunction {
  return createFunction({
    name: "pipeline",
    ...deps,
    events: {
      [events.modelVersionUploaded.type]: modelVersionUploadedHandler(services),
    },
  });
}
