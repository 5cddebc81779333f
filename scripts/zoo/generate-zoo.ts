import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
// scripts/package.json does not list @maas/onnx yet, so import its source by path.
import type { ModelSignature } from "@maas/onnx";
import { encodeModel, extractSignature, zoo } from "@maas/onnx";

export interface ZooEntry {
  file: string;
  bytes: number;
  sha256: string;
  /** What the pipeline should make of it. */
  expect: "ready" | "rejected";
  signature?: ModelSignature;
  description: string;
}

export interface ZooOptions {
  out: string;
  seed: number;
  /** Side of the large model's square weight; 16384 → 1 GiB. 0 skips it. */
  largeSide: number;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Writes the test model zoo into `out` with a manifest.json; the same seed gives the same bytes.
 *
 * @example
 * const entries = await generateZoo({ out: ".local/zoo", seed: 1, largeSide: 0 });
 */
export async function generateZoo(options: ZooOptions): Promise<ZooEntry[]> {
  const { out, seed } = options;
  await mkdir(out, { recursive: true });
  const models = [
    {
      file: "mlp-classifier.onnx",
      model: zoo.mlpClassifier(seed),
      description: "MLP classifier 64-256-10, softmax",
    },
    {
      file: "benchmark-mlp.onnx",
      model: zoo.benchmarkMlp(seed + 1),
      description: "MLP 1024-4096-4096-1000, ~25M params",
    },
    {
      file: "small-cnn.onnx",
      model: zoo.smallCnn(seed + 2),
      description: "Conv/Relu/MaxPool x2, Flatten, Gemm",
    },
    {
      file: "two-input.onnx",
      model: zoo.twoInput(seed + 3),
      description: "two inputs, Add/Concat then MatMul",
    },
    { file: "fixed-batch.onnx", model: zoo.fixedBatch(seed + 4), description: "batch fixed at 1" },
  ];
  const entries: ZooEntry[] = [];
  for (const { file, model, description } of models) {
    const bytes = encodeModel(model);
    await writeFile(join(out, file), bytes);
    entries.push({
      file,
      bytes: bytes.byteLength,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      expect: "ready",
      signature: extractSignature(model),
      description,
    });
  }
  const invalid = zoo.invalidModelBytes(seed + 5);
  await writeFile(join(out, "invalid.onnx"), invalid);
  entries.push({
    file: "invalid.onnx",
    bytes: invalid.byteLength,
    sha256: createHash("sha256").update(invalid).digest("hex"),
    expect: "rejected",
    description: "seeded garbage bytes, not a protobuf",
  });
  if (options.largeSide > 0) {
    const file = "large.onnx";
    const bytes = await zoo.writeLargeModel(join(out, file), { side: options.largeSide, seed: seed + 6 });
    entries.push({
      file,
      bytes,
      sha256: await sha256File(join(out, file)),
      expect: "ready",
      description: `MatMul with a ${options.largeSide}x${options.largeSide} FP32 weight, written by streaming`,
    });
  }
  await writeFile(join(out, "manifest.json"), `${JSON.stringify({ seed, models: entries }, null, 2)}\n`);
  return entries;
}
