// FP16 and INT8 variants of the zoo's benchmark MLP and classifier against FP32, onnxruntime-node CPU,
// one intra-op thread, all in one run. `pnpm exec tsx bench/onnx-variants.ts` from the repo root;
// writes bench/results/onnx-variants.json.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// bench/package.json does not list @maas/onnx yet, so import its source by path.
import type { CompareResult, Feeds } from "@maas/onnx";
import { compareVariants, encodeModel, ort, parseModel, quantizeInt8, toFp16, zoo } from "@maas/onnx";

const here = dirname(fileURLToPath(import.meta.url));

async function variants(name: string, fp32: Uint8Array, feeds?: Feeds[]) {
  const t0 = performance.now();
  const fp16 = encodeModel((await toFp16(parseModel(fp32))).model);
  const t1 = performance.now();
  const int8 = encodeModel(quantizeInt8(parseModel(fp32)).model);
  const t2 = performance.now();
  const options = { samples: 500, latencyRuns: 200, intraOpNumThreads: 1 };
  const r16 = await compareVariants(fp32, fp16, feeds, options);
  const r8 = await compareVariants(fp32, int8, feeds, options);
  const row = (r: CompareResult, bytes: number, buildMs: number) => ({
    bytes,
    size_ratio: bytes / fp32.byteLength,
    build_ms: Math.round(buildMs),
    max_abs_error: r.maxAbsError,
    top1_agreement: r.top1Agreement,
    samples: r.samples,
    latency_ms_batch1: r.latencyMs.variant,
    fp32_latency_ms_batch1: r.latencyMs.reference,
    latency_ratio_vs_fp32: r.latencyRatio,
  });
  const result = {
    fp32_bytes: fp32.byteLength,
    fp16: row(r16, fp16.byteLength, t1 - t0),
    int8: row(r8, int8.byteLength, t2 - t1),
  };
  console.log(name, JSON.stringify(result, null, 2));
  return result;
}

const classifier = encodeModel(zoo.mlpClassifier(1));
const { data } = zoo.classifierSamples(1, 1000);
const classifierResult = await variants("mlp-classifier", classifier, [
  { input: new ort.Tensor("float32", data.subarray(0, 500 * 64), [500, 64]) },
  { input: new ort.Tensor("float32", data.subarray(500 * 64), [500, 64]) },
]);
const bench = await variants("benchmark-mlp", encodeModel(zoo.benchmarkMlp(2)));

const figures = {
  fp16_size_ratio: bench.fp16.size_ratio,
  int8_size_ratio: bench.int8.size_ratio,
  int8_top1_agreement: classifierResult.int8.top1_agreement,
  int8_latency_ratio_vs_fp32: bench.int8.latency_ratio_vs_fp32,
  fp16_latency_ratio_vs_fp32: bench.fp16.latency_ratio_vs_fp32,
  max_abs_error_fp16: bench.fp16.max_abs_error,
  max_abs_error_int8: bench.int8.max_abs_error,
};
const goals = {
  fp16_size_ratio: { target: "≈ 0.5", met: figures.fp16_size_ratio < 0.55 },
  int8_size_ratio: {
    target: "0.25–0.35",
    met: figures.int8_size_ratio >= 0.25 && figures.int8_size_ratio <= 0.35,
  },
  int8_top1_agreement: {
    target: "≥ 0.99 (classifier, 1000 in-distribution inputs)",
    met: figures.int8_top1_agreement >= 0.99,
  },
  int8_latency_ratio_vs_fp32: {
    target: "≤ 1.2 (batch 1, CPU, 1 thread)",
    met: figures.int8_latency_ratio_vs_fp32 <= 1.2,
  },
};
const report = {
  name: "onnx-variants",
  command: "pnpm exec tsx bench/onnx-variants.ts",
  date: new Date().toISOString(),
  environment: {
    node: process.version,
    onnxruntime: ort.env.versions.node,
    intraOpNumThreads: 1,
    provider: "cpu",
  },
  figures,
  goals,
  models: { "mlp-classifier": classifierResult, "benchmark-mlp": bench },
  notes: [
    "figures: sizes, latency and errors from the benchmark MLP (1024-4096-4096-1000); top-1 from the classifier on its own input clusters",
    "INT8 = com.microsoft.MatMulNBits bits 8, block 32, accuracy_level 4; Conv stays FP32",
    "FP16 computes in FP16 between Casts; on the CPU provider onnxruntime runs it in FP32 again, so its gain is size (and GPU speed)",
  ],
};
console.log(JSON.stringify({ figures, goals }, null, 2));
await mkdir(join(here, "results"), { recursive: true });
await writeFile(join(here, "results", "onnx-variants.json"), `${JSON.stringify(report, null, 2)}\n`);
