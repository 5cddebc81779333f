import type { Database } from "@maas/db";
import { PARSE_LIMIT_BYTES } from "@maas/onnx";
import type { ObjectStore } from "@maas/storage";
import type { Kysely } from "kysely";
import { DEFAULT_PROCESS_OPTIONS } from "./process/process-model.js";
import { runInWorker } from "./process/run-in-worker.js";
import type { ProcessOptions, ProcessOutcome } from "./process/types.js";

/** Runs the CPU-heavy step (parse, validate, rewrite, compare) on the verified bytes. */
export type ModelProcessor = (bytes: Uint8Array, options: ProcessOptions) => Promise<ProcessOutcome>;

/** Everything the pipeline's handler uses, built once in main.ts (or by a test). */
export interface PipelineServices {
  db: Kysely<Database>;
  store: ObjectStore;
  /**
   * Largest model processed. The whole file is held in memory (plus its decoded graph, two variants
   * and onnxruntime sessions, about 5× the file at peak), so this bounds the function's memory.
   * Default and ceiling: `PARSE_LIMIT_BYTES` (1 GiB).
   */
  maxModelBytes?: number;
  /** Models processed at once by this instance; more get 429 + Retry-After. Default 1. */
  maxConcurrent?: number;
  /** A model still processing after this long is rejected (PROCESSING_TIMEOUT). Default 10 min. */
  processTimeoutMs?: number;
  /**
   * A `validating` claim older than this is presumed dead (its instance crashed mid-run) and taken
   * over by the next delivery. Default `processTimeoutMs` + 5 min: a live instance has given its
   * verdict by then (the worker is stopped at the timeout; the margin covers reading the model and
   * storing its variants), so a takeover never races a live owner in practice (and is fenced if it does).
   */
  staleClaimMs?: number;
  /**
   * Validation starts per version. A stale claim that used them all is not taken over: the version is
   * rejected with PROCESSING_ABANDONED (a model that kills every instance processing it). Default 3.
   */
  maxValidationAttempts?: number;
  /** Thresholds and sample counts for the variant checks. */
  processOptions?: ProcessOptions;
  /** Default: a worker thread per model (`runInWorker`). */
  processor?: ModelProcessor;
  /** `source` of the events the pipeline emits. */
  source?: string;
  /** Called after a verdict committed (e.g. `relay.wake()` so the event leaves at once). */
  onCommitted?: () => void;
}

/** Added to the processing timeout for the default stale-claim age: reading and storing the files. */
export const STALE_CLAIM_MARGIN_MS = 5 * 60_000;

/** The services with every default filled in. */
export type ResolvedServices = Required<Omit<PipelineServices, "onCommitted">> &
  Pick<PipelineServices, "onCommitted">;

export function resolveServices(services: PipelineServices): ResolvedServices {
  const timeoutMs = services.processTimeoutMs ?? 600_000;
  return {
    ...services,
    maxModelBytes: Math.min(services.maxModelBytes ?? PARSE_LIMIT_BYTES, PARSE_LIMIT_BYTES),
    maxConcurrent: services.maxConcurrent ?? 1,
    processTimeoutMs: timeoutMs,
    staleClaimMs: services.staleClaimMs ?? timeoutMs + STALE_CLAIM_MARGIN_MS,
    maxValidationAttempts: services.maxValidationAttempts ?? 3,
    processOptions: services.processOptions ?? DEFAULT_PROCESS_OPTIONS,
    processor: services.processor ?? ((bytes, options) => runInWorker(bytes, options, { timeoutMs })),
    source: services.source ?? "/functions/pipeline",
  };
}
