import {
  type CompareResult,
  compareVariants,
  encodeModel,
  type ModelSignature,
  ort,
  parseModel,
  quantizeInt8,
  toFp16,
  tryParseModel,
  validateModel,
} from "@maas/onnx";
import type {
  BuiltVariant,
  BuiltVariantName,
  ProcessOptions,
  ProcessOutcome,
  SkippedVariant,
  VariantFigures,
} from "./types.js";

/**
 * The default bar a variant must clear. FP16 rounds to ~3 significant digits, so 0.01 on outputs
 * of order 1 (probabilities, logits) is generous; INT8 weights (8 bits, blocks of 32) move outputs
 * by a few hundredths on the zoo models. INT8 latency is gated loosely (2×) so that a rewrite that
 * makes the CPU provider dequantize on every run (~13× slower, see issue 4) is never stored, while
 * noise on a shared machine does not drop a good variant. FP16 latency is recorded, not gated: the
 * CPU provider runs FP16 graphs through casts, and the variant is for GPUs, where it is faster.
 */
export const DEFAULT_PROCESS_OPTIONS: ProcessOptions = {
  thresholds: {
    fp16: {
      maxAbsError: 0.01,
      minTop1Agreement: 0.99,
      maxLatencyRatio: Number.POSITIVE_INFINITY,
      maxSizeRatio: 0.9,
    },
    int8: { maxAbsError: 0.1, minTop1Agreement: 0.98, maxLatencyRatio: 2, maxSizeRatio: 0.9 },
  },
  samples: 200,
  latencyRuns: 20,
  seed: 1234,
};

const PUSH_AGAIN = "fix the model and push it again as a new version";

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The first FP32 output: the one whose argmax top-1 agreement is measured on. Agreement is a bar only
 * when that output looks like scores over classes (a fixed last axis wider than 1): the argmax over
 * a heatmap's spatial axis (PaddleOCR detection, [-1, 1, -1, -1]) picks among near-equal values, and
 * its "agreement" says nothing about the variant. Error still applies there.
 */
function agreementOutput(signature: ModelSignature): { name: string; gated: boolean } | undefined {
  const output = signature.outputs.find((o) => o.datatype === "FP32");
  if (!output) return undefined;
  const last = output.shape.at(-1) ?? -1;
  return { name: output.name, gated: last > 1 };
}

function figuresOf(fp32Bytes: number, bytes: number, r: CompareResult, top1Gated: boolean): VariantFigures {
  return {
    top1Gated,
    sizeBytes: bytes,
    sizeRatio: bytes / fp32Bytes,
    maxAbsError: r.maxAbsError,
    meanAbsError: r.meanAbsError,
    top1Agreement: r.top1Agreement,
    samples: r.samples,
    latencyMs: { fp32: r.latencyMs.reference, variant: r.latencyMs.variant },
    latencyRatio: r.latencyRatio,
  };
}

/** Why a variant misses its bar, or undefined when it clears it. */
function judge(variant: BuiltVariantName, f: VariantFigures, options: ProcessOptions): string | undefined {
  const t = options.thresholds[variant];
  const fmt = (n: number) => Number(n.toPrecision(3));
  if (f.sizeRatio > t.maxSizeRatio) {
    return `it is ${fmt(f.sizeRatio * 100)}% of the FP32 size (more than ${t.maxSizeRatio * 100}%): it saves too little to be worth serving`;
  }
  if (!(f.maxAbsError <= t.maxAbsError)) {
    return `its outputs differ from FP32 by up to ${fmt(f.maxAbsError)} (limit ${t.maxAbsError})`;
  }
  if (f.top1Gated && f.samples > 0 && f.top1Agreement < t.minTop1Agreement) {
    return `its top-1 agreement with FP32 is ${fmt(f.top1Agreement * 100)}% (at least ${t.minTop1Agreement * 100}% needed)`;
  }
  if (f.latencyRatio > t.maxLatencyRatio) {
    return `it runs ${fmt(f.latencyRatio)}× slower than FP32 at batch 1 (limit ${t.maxLatencyRatio}×)`;
  }
  return undefined;
}

/**
 * Parses, validates and converts one uploaded model: the CPU-heavy part of the pipeline, run in a
 * worker thread by `runInWorker` (callable directly in tests). Expected failures are results: a
 * model that is not ONNX, fails validation or does not load is a `Rejection`; a variant that cannot
 * be built or misses its bar is a `SkippedVariant` with the reason. Throws only on bugs.
 *
 * @example
 * const outcome = await processModel(bytes, DEFAULT_PROCESS_OPTIONS);
 * if (outcome.ok) console.log(outcome.signature, outcome.variants.map((v) => v.figures));
 */
export async function processModel(
  fp32: Uint8Array,
  options: ProcessOptions = DEFAULT_PROCESS_OPTIONS,
): Promise<ProcessOutcome> {
  const timingsMs: Record<string, number> = {};
  const timed = async <T>(step: string, run: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      timingsMs[step] = Math.round(performance.now() - t0);
    }
  };

  const parsed = await timed("parse", () => tryParseModel(fp32));
  if (!parsed.ok) return { ok: false, code: "INVALID_ONNX", message: `${parsed.reason}; ${PUSH_AGAIN}` };

  const validation = await timed("validate", () => validateModel(parsed.model));
  if (!validation.ok || !validation.signature) {
    const [first] = validation.problems;
    return {
      ok: false,
      code: first?.code ?? "INVALID_MODEL",
      message: validation.problems.map((p) => p.message).join("; ") || "the model failed validation",
    };
  }
  const signature = validation.signature;

  // Validation reads the protobuf; only a session proves the runtime can serve it (kernels, shapes).
  const loadError = await timed("load", async () => {
    try {
      const session = await ort.InferenceSession.create(fp32, { logSeverityLevel: 3, intraOpNumThreads: 1 });
      await session.release();
      return undefined;
    } catch (error) {
      return message(error);
    }
  });
  if (loadError !== undefined) {
    return {
      ok: false,
      code: "MODEL_LOAD_FAILED",
      message: `onnxruntime ${ort.env.versions.common} could not load the model: ${loadError}; ${PUSH_AGAIN}`,
    };
  }

  const variants: BuiltVariant[] = [];
  const skipped: SkippedVariant[] = [];
  const output = agreementOutput(signature);
  const check = async (variant: BuiltVariantName, bytes: Uint8Array, rewrite: Record<string, unknown>) => {
    let figures: VariantFigures;
    try {
      const r = await timed(`compare_${variant}`, () =>
        compareVariants(fp32, bytes, undefined, {
          samples: options.samples,
          latencyRuns: options.latencyRuns,
          seed: options.seed,
          ...(output === undefined ? {} : { output: output.name }),
        }),
      );
      figures = figuresOf(fp32.byteLength, bytes.byteLength, r, output?.gated ?? false);
    } catch (error) {
      skipped.push({ variant, reason: `it could not be checked against FP32: ${message(error)}` });
      return;
    }
    const reason = judge(variant, figures, options);
    if (reason) skipped.push({ variant, reason, figures });
    else variants.push({ variant, bytes, figures, rewrite });
  };

  // Each rewrite gets its own parse: the rewrites share unchanged sub-objects with their input.
  try {
    const { model, report } = await timed("build_fp16", () => toFp16(parseModel(fp32)));
    await check("fp16", encodeModel(model), { ...report });
  } catch (error) {
    skipped.push({ variant: "fp16", reason: `the FP16 rewrite failed: ${message(error)}` });
  }

  try {
    const { model, report } = await timed("build_int8", () => quantizeInt8(parseModel(fp32)));
    if (report.rewritten.length === 0) {
      const why =
        report.skipped.length > 0
          ? ` (${report.skipped.map((s) => `${s.node}: ${s.reason}`).join("; ")})`
          : "";
      skipped.push({
        variant: "int8",
        reason: `no MatMul or Gemm with a constant 2-D FP32 weight to quantize${why}, so the INT8 file would be the FP32 model again`,
      });
    } else {
      await check("int8", encodeModel(model), { rewritten: report.rewritten, skipped: report.skipped });
    }
  } catch (error) {
    skipped.push({ variant: "int8", reason: `the INT8 rewrite failed: ${message(error)}` });
  }

  return { ok: true, signature, notes: validation.notes, variants, skipped, timingsMs };
}
