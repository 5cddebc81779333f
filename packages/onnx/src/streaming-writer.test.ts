import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { parseModel } from "./parse.js";
import { extractSignature } from "./signature.js";
import { floatValues } from "./tensor-data.js";
import { validateModel } from "./validate.js";
import { writeLargeModel } from "./zoo.js";

const dir = await mkdtemp(join(tmpdir(), "maas-onnx-stream-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Peak RSS growth while writing a model of the given side, sampled every few ms. */
async function peakRssGrowth(path: string, side: number): Promise<number> {
  globalThis.gc?.();
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  await writeLargeModel(path, { side });
  clearInterval(timer);
  return Math.max(peak, process.memoryUsage.rss()) - before;
}

describe("streamed large-model writer", () => {
  it("writes a valid model that onnxruntime runs, byte for byte the declared size", async () => {
    const path = join(dir, "small.onnx");
    const side = 256;
    const written = await writeLargeModel(path, { side });
    expect((await stat(path)).size).toBe(written);
    const bytes = await readFile(path);
    const model = parseModel(bytes);
    expect(validateModel(model).ok).toBe(true);
    expect(extractSignature(model).inputs).toEqual([{ name: "input", datatype: "FP32", shape: [-1, side] }]);
    const weight = floatValues(model.graph!.initializer![0]!)!;
    expect(weight.length).toBe(side * side);

    const session = await ort.InferenceSession.create(bytes);
    const x = new Float32Array(side);
    x[3] = 1; // y = row 3 of W
    const y = (await session.run({ input: new ort.Tensor("float32", x, [1, side]) })).output!
      .data as Float32Array;
    expect(Array.from(y)).toEqual(Array.from(weight.subarray(3 * side, 4 * side)));
    await session.release();
  });

  it("memory does not grow with the model size", async () => {
    const small = await peakRssGrowth(join(dir, "a.onnx"), 2048); // 16 MiB
    const large = await peakRssGrowth(join(dir, "b.onnx"), 6144); // 144 MiB
    expect((await stat(join(dir, "b.onnx"))).size).toBeGreaterThan(144 * 1024 * 1024);
    // Bounded by a few chunks in flight, not by the 144 MiB written. RSS also moves with GC timing and
    // with whatever else the test worker holds (the garbage of generating 144 MiB of weights is
    // collected when V8 pleases), so the bounds sit at half of what a writer that buffered the model
    // would need (≥ 144 MiB; ≥ 128 MiB more than for the small one), not at the steady-state figure:
    // a 48 MiB bound on the difference failed once in CI at 48.1 MiB.
    expect(large).toBeLessThan(100 * 1024 * 1024);
    expect(large - small).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});
