import type { ModelSignature } from "@maas/onnx";

/** The variants the pipeline builds beside the uploaded FP32 file. */
export type BuiltVariantName = "fp16" | "int8";

/**
 * When a built variant is worth serving. Absolute errors on the FP32 outputs, because what a client
 * sees is the output; a model whose outputs are large numbers gets no FP16 variant rather than a
 * wrong one (the note says why).
 */
export interface VariantThresholds {
  /** Largest |fp32 − variant| over every float output element on the generated inputs. */
  maxAbsError: number;
  /** Share of rows whose argmax over the last axis of the first output agrees with FP32. */
  minTop1Agreement: number;
  /** Batch-1 median latency of the variant over FP32's, measured interleaved on one thread. */
  maxLatencyRatio: number;
  /** Variant size over FP32 size: a variant that saves nothing is not worth a second file. */
  maxSizeRatio: number;
}

export interface ProcessOptions {
  thresholds: Record<BuiltVariantName, VariantThresholds>;
  /** Generated samples for the accuracy comparison. */
  samples: number;
  /** Timed batch-1 runs per session for the latency median. */
  latencyRuns: number;
  seed: number;
}

/** The figures recorded for a variant, kept or not. */
export interface VariantFigures {
  sizeBytes: number;
  sizeRatio: number;
  maxAbsError: number;
  meanAbsError: number;
  top1Agreement: number;
  /** Whether agreement was held to the bar: only for outputs that look like class scores. */
  top1Gated: boolean;
  samples: number;
  latencyMs: { fp32: number; variant: number };
  latencyRatio: number;
}

export interface BuiltVariant {
  variant: BuiltVariantName;
  bytes: Uint8Array;
  figures: VariantFigures;
  /** What the rewrite did (FP16 mode, INT8 nodes rewritten), for the record. */
  rewrite: Record<string, unknown>;
}

export interface SkippedVariant {
  variant: BuiltVariantName;
  /** Why it is not stored, for the person reading the version. */
  reason: string;
  figures?: VariantFigures;
}

/** A verdict on a model: a SCREAMING_SNAKE code and a message a person can act on. */
export interface Rejection {
  ok: false;
  code: string;
  message: string;
}

export interface Accepted {
  ok: true;
  signature: ModelSignature;
  /** Validation notes (dynamic axes, fixed batch). */
  notes: string[];
  variants: BuiltVariant[];
  skipped: SkippedVariant[];
  /** Wall time of each step, for logs and tuning. */
  timingsMs: Record<string, number>;
}

export type ProcessOutcome = Accepted | Rejection;
