import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseModel, tryParseModel, validateModel } from "@maas/onnx";
import { afterAll, describe, expect, it } from "vitest";
import { generateZoo } from "./generate-zoo.js";

const dir = await mkdtemp(join(tmpdir(), "maas-zoo-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("generateZoo", () => {
  it("writes every model with a manifest, deterministically, and each file is what it claims", async () => {
    const first = await generateZoo({ out: join(dir, "a"), seed: 1, largeSide: 64 });
    const second = await generateZoo({ out: join(dir, "b"), seed: 1, largeSide: 64 });
    expect(second.map((e) => e.sha256)).toEqual(first.map((e) => e.sha256));
    expect(first.map((e) => e.file)).toEqual([
      "mlp-classifier.onnx",
      "benchmark-mlp.onnx",
      "small-cnn.onnx",
      "two-input.onnx",
      "fixed-batch.onnx",
      "invalid.onnx",
      "large.onnx",
    ]);
    const bench = first.find((e) => e.file === "benchmark-mlp.onnx")!;
    expect(bench.bytes).toBeGreaterThan(100_000_000);
    expect(bench.bytes).toBeLessThan(102_000_000);

    for (const entry of first) {
      const bytes = await readFile(join(dir, "a", entry.file));
      if (entry.expect === "rejected") {
        expect(tryParseModel(bytes).ok).toBe(false);
        continue;
      }
      const result = validateModel(parseModel(bytes));
      expect(result.problems, entry.file).toEqual([]);
      if (entry.signature) expect(result.signature).toEqual(entry.signature);
    }
    const manifest = JSON.parse(await readFile(join(dir, "a", "manifest.json"), "utf8"));
    expect(manifest.models).toHaveLength(7);
  }, 60_000);
});
