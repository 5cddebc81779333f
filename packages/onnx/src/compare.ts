import * as ort from "onnxruntime-node";
import { parseModel } from "./parse.js";
import { fillNormal, seededRandom } from "./random.js";
import type { TensorSpec } from "./signature.js";
import { extractSignature } from "./signature.js";

export type Feeds = Record<string, ort.Tensor>;

export interface CompareOptions {
  /** Generated samples for accuracy (ignored when feeds are given). Default 200. */
  samples?: number;
  /** Rows per accuracy run when the batch is dynamic; default 50. */
  batchSize?: number;
  /** Timed batch-1 runs per model, after warm-up; the median is reported. Default 50. */
  latencyRuns?: number;
  seed?: number;
  /** Threads per session; 1 keeps latency figures stable on a shared machine. */
  intraOpNumThreads?: number;
  /** Sizes for dynamic non-batch axes, per input name; default 32 for each. */
  dynamicDims?: Record<string, number[]>;
  /** Output used for top-1 agreement; default the first output. */
  output?: string;
}

export interface CompareResult {
  samples: number;
  /** Largest |reference − variant| over every element of every float output. */
  maxAbsError: number;
  meanAbsError: number;
  /** Share of rows whose argmax over the last axis of `output` agrees. */
  top1Agreement: number;
  latencyMs: { reference: number; variant: number };
  /** variant / reference; below 1 means the variant is faster. */
  latencyRatio: number;
}

function concreteShape(spec: TensorSpec, batch: number, dynamicDims: number[] | undefined): number[] {
  let next = 0;
  return spec.shape.map((d, axis) => {
    if (d !== -1) return d;
    if (axis === 0) return batch;
    return dynamicDims?.[next++] ?? 32;
  });
}

function randomTensor(spec: TensorSpec, shape: number[], rand: () => number): ort.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  switch (spec.datatype) {
    case "FP32":
      return new ort.Tensor("float32", fillNormal(new Float32Array(size), rand), shape);
    case "INT64":
      return new ort.Tensor(
        "int64",
        BigInt64Array.from({ length: size }, () => BigInt(Math.floor(rand() * 10))),
        shape,
      );
    case "INT32":
      return new ort.Tensor(
        "int32",
        Int32Array.from({ length: size }, () => Math.floor(rand() * 10)),
        shape,
      );
    case "UINT8":
      return new ort.Tensor(
        "uint8",
        Uint8Array.from({ length: size }, () => Math.floor(rand() * 256)),
        shape,
      );
    case "BOOL":
      return new ort.Tensor(
        "bool",
        Uint8Array.from({ length: size }, () => (rand() < 0.5 ? 1 : 0)),
        shape,
      );
    default:
      throw new Error(`cannot generate inputs of type ${spec.datatype} for "${spec.name}"`);
  }
}

/**
 * Random feeds for a model's signature: normal FP32 values, small integers, batch `batch` on a
 * dynamic axis 0. Deterministic for a seed.
 *
 * @example
 * const feeds = generateFeeds(parseModel(bytes), { count: 10, batch: 1, seed: 7 });
 */
export function generateFeeds(
  inputs: TensorSpec[],
  options: { count: number; batch: number; seed?: number; dynamicDims?: Record<string, number[]> },
): Feeds[] {
  const rand = seededRandom(options.seed ?? 1234);
  return Array.from({ length: options.count }, () => {
    const feeds: Feeds = {};
    for (const spec of inputs) {
      feeds[spec.name] = randomTensor(
        spec,
        concreteShape(spec, options.batch, options.dynamicDims?.[spec.name]),
        rand,
      );
    }
    return feeds;
  });
}

function argmaxRows(data: Float32Array, width: number): Int32Array {
  const rows = Math.floor(data.length / Math.max(width, 1));
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (data[r * width + c]! > data[r * width + best]!) best = c;
    out[r] = best;
  }
  return out;
}

async function medianLatency(
  sessions: ort.InferenceSession[],
  feeds: Feeds,
  runs: number,
): Promise<number[]> {
  const times = sessions.map(() => [] as number[]);
  for (const s of sessions) for (let i = 0; i < 5; i++) await s.run(feeds);
  // Interleave the sessions so drift on a shared machine hits both alike.
  for (let i = 0; i < runs; i++) {
    for (const [k, s] of sessions.entries()) {
      const t0 = performance.now();
      await s.run(feeds);
      times[k]!.push(performance.now() - t0);
    }
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]!);
}

/**
 * Runs the FP32 model and a variant on the same inputs with onnxruntime-node (CPU) and reports the
 * numbers that decide whether the variant is worth serving: error, top-1 agreement, batch-1 latency.
 * `inputs` is either explicit feeds or omitted to generate `samples` random ones from the signature.
 *
 * @example
 * const r = await compareVariants(fp32Bytes, int8Bytes, undefined, { samples: 500 });
 * r.top1Agreement; // 0.998
 */
export async function compareVariants(
  fp32Bytes: Uint8Array,
  variantBytes: Uint8Array,
  inputs?: Feeds[],
  options: CompareOptions = {},
): Promise<CompareResult> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    logSeverityLevel: 3,
  };
  const signature = extractSignature(parseModel(fp32Bytes));
  const reference = await ort.InferenceSession.create(fp32Bytes, sessionOptions);
  const variant = await ort.InferenceSession.create(variantBytes, sessionOptions);
  try {
    const samples = options.samples ?? 200;
    const batch = signature.dynamicBatch ? Math.min(options.batchSize ?? 50, samples) : 1;
    const feedsList =
      inputs ??
      generateFeeds(signature.inputs, {
        count: Math.ceil(samples / batch),
        batch,
        seed: options.seed,
        dynamicDims: options.dynamicDims,
      });
    const outputName = options.output ?? reference.outputNames[0]!;
    let maxAbs = 0;
    let sumAbs = 0;
    let count = 0;
    let rows = 0;
    let agree = 0;
    for (const feeds of feedsList) {
      const [a, b] = [await reference.run(feeds), await variant.run(feeds)];
      for (const name of reference.outputNames) {
        const x = a[name]!;
        const y = b[name]!;
        if (x.type !== "float32" || y.type !== "float32") continue;
        const xd = x.data as Float32Array;
        const yd = y.data as Float32Array;
        for (let i = 0; i < xd.length; i++) {
          const d = Math.abs(xd[i]! - yd[i]!);
          if (d > maxAbs || Number.isNaN(d)) maxAbs = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
          sumAbs += d;
        }
        count += xd.length;
        if (name === outputName) {
          const width = x.dims.at(-1) ?? 1;
          const ra = argmaxRows(xd, width);
          const rb = argmaxRows(yd, width);
          for (let r = 0; r < ra.length; r++) if (ra[r] === rb[r]) agree++;
          rows += ra.length;
        }
      }
    }
    const single =
      inputs?.[0] ??
      generateFeeds(signature.inputs, {
        count: 1,
        batch: 1,
        seed: options.seed,
        dynamicDims: options.dynamicDims,
      })[0]!;
    const [refMs, varMs] = await medianLatency([reference, variant], single, options.latencyRuns ?? 50);
    return {
      samples: rows,
      maxAbsError: maxAbs,
      meanAbsError: count > 0 ? sumAbs / count : 0,
      top1Agreement: rows > 0 ? agree / rows : 0,
      latencyMs: { reference: refMs!, variant: varMs! },
      latencyRatio: varMs! / refMs!,
    };
  } finally {
    await reference.release();
    await variant.release();
  }
}
