import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { buildModel, ElemType, encodeModel, floatTensor, node, tensorInfo } from "./builder.js";
import { compareVariants } from "./compare.js";
import { toFp16 } from "./fp16.js";
import { quantizeInt8 } from "./int8.js";
import { parseModel } from "./parse.js";
import { onnx } from "./proto.js";
import { extractSignature } from "./signature.js";
import { classifierSamples, mlpClassifier, smallCnn, twoInput } from "./zoo.js";

const classifier = encodeModel(mlpClassifier());

describe("FP16 variant", () => {
  it.each([
    ["mlp classifier", classifier],
    ["small cnn", encodeModel(smallCnn())],
    ["two-input", encodeModel(twoInput())],
  ])("%s: about half the size, FP32 interface, small error", async (_name, fp32) => {
    const { model, report } = await toFp16(parseModel(fp32));
    const fp16 = encodeModel(model);
    expect(report.mode).toBe("graph");
    expect(fp16.byteLength / fp32.byteLength).toBeGreaterThan(0.45);
    expect(fp16.byteLength / fp32.byteLength).toBeLessThan(0.6);
    expect(extractSignature(model)).toEqual(extractSignature(parseModel(fp32)));
    const r = await compareVariants(fp32, fp16, undefined, { samples: 100, latencyRuns: 5 });
    expect(r.maxAbsError).toBeLessThan(0.01);
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.99);
  });

  it("falls back to FP16 storage with FP32 compute for graphs with control flow", async () => {
    const branch = (op: string) => ({
      name: op,
      node: [node(op, ["h"], [`${op}.out`])],
      output: [tensorInfo(`${op}.out`, ElemType.FLOAT, ["n", 4])],
    });
    const model = buildModel({
      name: "if",
      nodes: [
        node("Add", ["x", "w"], ["h"]),
        node(
          "If",
          ["cond"],
          ["y"],
          [
            { name: "then_branch", type: onnx.AttributeProto.AttributeType.GRAPH, g: branch("Relu") },
            { name: "else_branch", type: onnx.AttributeProto.AttributeType.GRAPH, g: branch("Neg") },
          ],
        ),
      ],
      initializers: [floatTensor("w", [4], new Float32Array([0.5, -1, 2, -3]))],
      inputs: [tensorInfo("x", ElemType.FLOAT, ["n", 4]), tensorInfo("cond", ElemType.BOOL, [])],
      outputs: [tensorInfo("y", ElemType.FLOAT, ["n", 4])],
    });
    const fp32 = encodeModel(model);
    const { model: fp16, report } = await toFp16(parseModel(fp32));
    expect(report).toMatchObject({ mode: "weights-only", convertedInitializers: 1 });
    expect(report.fallbackReason).toContain("control-flow");
    const x = new ort.Tensor("float32", new Float32Array([1, 2, 3, 4]), [1, 4]);
    const cond = new ort.Tensor("bool", new Uint8Array([1]), []);
    const r = await compareVariants(fp32, encodeModel(fp16), [{ x, cond }], { latencyRuns: 3 });
    expect(r.maxAbsError).toBe(0); // 0.5, -1, 2, -3 are exact in FP16
  });
});

describe("INT8 variant (MatMulNBits)", () => {
  it("rewrites Gemm (transB) and MatMul, 25–35% of the size, ≥ 99% top-1 on 1000 inputs", async () => {
    const { model, report } = quantizeInt8(parseModel(classifier));
    expect(report.rewritten).toEqual(["fc0/Gemm", "fc1/MatMul"]);
    const ops = model.graph!.node!.map((n) => `${n.domain || "ai.onnx"}:${n.opType}`);
    expect(ops).toEqual([
      "com.microsoft:MatMulNBits",
      "ai.onnx:Add",
      "ai.onnx:Relu",
      "com.microsoft:MatMulNBits",
      "ai.onnx:Add",
      "ai.onnx:Softmax",
    ]);
    const int8 = encodeModel(model);
    const ratio = int8.byteLength / classifier.byteLength;
    expect(ratio).toBeGreaterThan(0.25);
    expect(ratio).toBeLessThan(0.35);

    const { data } = classifierSamples(1, 1000);
    const feeds = [{ input: new ort.Tensor("float32", data, [1000, 64]) }];
    const r = await compareVariants(classifier, int8, feeds, { latencyRuns: 5 });
    expect(r.samples).toBe(1000);
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.99);
    expect(r.maxAbsError).toBeLessThan(0.05);
  });

  it("the classifier's predictions are varied, so agreement is not trivial", async () => {
    const session = await ort.InferenceSession.create(classifier);
    const { data } = classifierSamples(1, 500);
    const out = await session.run({ input: new ort.Tensor("float32", data, [500, 64]) });
    const probs = out.probabilities!.data as Float32Array;
    const predicted = new Set<number>();
    for (let r = 0; r < 500; r++) {
      const row = Array.from(probs.subarray(r * 10, r * 10 + 10));
      predicted.add(row.indexOf(Math.max(...row)));
    }
    expect(predicted.size).toBe(10);
    await session.release();
  });

  it("leaves Conv in FP32 and quantizes the CNN's Gemm head", async () => {
    const cnn = encodeModel(smallCnn());
    const { model, report } = quantizeInt8(parseModel(cnn));
    expect(report.rewritten).toEqual(["fc/Gemm"]);
    expect(model.graph!.node!.filter((n) => n.opType === "Conv")).toHaveLength(2);
    const r = await compareVariants(cnn, encodeModel(model), undefined, { samples: 200, latencyRuns: 5 });
    expect(r.top1Agreement).toBeGreaterThanOrEqual(0.98);
  });

  it("skips weights it cannot quantize and says why", () => {
    const m = mlpClassifier();
    m.graph!.input!.push({ name: "fc1.weight" });
    const { report } = quantizeInt8(m);
    expect(report.rewritten).toEqual(["fc0/Gemm"]);
    expect(report.skipped).toEqual([
      { node: "fc1/MatMul", reason: "the weight is not a constant initializer" },
    ]);
  });
});
