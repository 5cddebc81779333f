import { describe, expect, it } from "vitest";
import { buildModel, ElemType, encodeModel, floatTensor, node, tensorInfo } from "./builder.js";
import { parseModel, tryParseModel } from "./parse.js";
import { onnx } from "./proto.js";
import { extractSignature } from "./signature.js";
import { validateModel } from "./validate.js";
import { fixedBatch, invalidModelBytes, mlpClassifier, smallCnn, twoInput } from "./zoo.js";

const roundTrip = (m: ReturnType<typeof mlpClassifier>) => parseModel(encodeModel(m));

describe("zoo models parse, validate and give their signature", () => {
  it("mlp classifier", () => {
    const result = validateModel(roundTrip(mlpClassifier()));
    expect(result.problems).toEqual([]);
    expect(result.signature).toEqual({
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 64] }],
      outputs: [{ name: "probabilities", datatype: "FP32", shape: [-1, 10] }],
      opset: 17,
      producer: "maas-zoo 1",
      dynamicBatch: true,
    });
    expect(result.notes.join(" ")).toContain("dynamic batch");
  });

  it("small cnn", () => {
    const sig = extractSignature(roundTrip(smallCnn()));
    expect(sig.inputs).toEqual([{ name: "image", datatype: "FP32", shape: [-1, 1, 28, 28] }]);
    expect(sig.outputs).toEqual([{ name: "logits", datatype: "FP32", shape: [-1, 10] }]);
    expect(validateModel(roundTrip(smallCnn())).ok).toBe(true);
  });

  it("two-input model", () => {
    const sig = extractSignature(roundTrip(twoInput()));
    expect(sig.inputs.map((i) => [i.name, i.shape])).toEqual([
      ["a", [-1, 32]],
      ["b", [-1, 32]],
    ]);
    expect(sig.outputs).toEqual([{ name: "output", datatype: "FP32", shape: [-1, 16] }]);
  });

  it("fixed-batch model is valid and reported as not batchable", () => {
    const result = validateModel(roundTrip(fixedBatch()));
    expect(result.ok).toBe(true);
    expect(result.dynamicBatch).toBe(false);
    expect(result.signature?.inputs).toEqual([{ name: "input", datatype: "FP32", shape: [1, 16] }]);
    expect(result.notes.join(" ")).toContain("fixed batch of 1");
  });
});

describe("rejections with reasons", () => {
  it("garbage bytes are not a model", () => {
    const r = tryParseModel(invalidModelBytes());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/not an ONNX protobuf/);
    expect(() => parseModel(invalidModelBytes())).toThrow(/not an ONNX/);
  });

  it("an empty file and a protobuf without a graph are not models", () => {
    expect(tryParseModel(new Uint8Array())).toEqual({ ok: false, reason: "the file is empty" });
    const noGraph = onnx.ModelProto.encode({ irVersion: 8, producerName: "x" }).finish();
    expect(tryParseModel(noGraph)).toEqual({
      ok: false,
      reason: "the file is not an ONNX model: it has no graph",
    });
  });

  it("external data is refused, naming the tensor", () => {
    const model = mlpClassifier();
    const weight = model.graph!.initializer![0]!;
    weight.rawData = new Uint8Array();
    weight.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    weight.externalData = [{ key: "location", value: "weights.bin" }];
    const result = validateModel(roundTrip(model));
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toEqual(["EXTERNAL_DATA"]);
    expect(result.problems[0]!.message).toContain('initializer "fc0.weight"');
  });

  const tiny = (opset: number, inputType: number = ElemType.FLOAT) =>
    buildModel({
      name: "t",
      opset,
      nodes: [node("Identity", ["x"], ["y"])],
      inputs: [tensorInfo("x", inputType, ["n", 2])],
      outputs: [tensorInfo("y", inputType, ["n", 2])],
    });

  it("opsets outside the runtime's range", () => {
    expect(validateModel(tiny(6)).problems.map((p) => p.code)).toEqual(["OPSET_TOO_OLD"]);
    expect(validateModel(tiny(27)).problems.map((p) => p.code)).toEqual(["OPSET_TOO_NEW"]);
    expect(validateModel(tiny(26)).ok).toBe(true);
  });

  it("unsupported boundary dtypes and missing inputs", () => {
    const complex = validateModel(tiny(17, onnx.TensorProto.DataType.COMPLEX64));
    expect(complex.problems.map((p) => p.code)).toEqual(["UNSUPPORTED_DTYPE", "UNSUPPORTED_DTYPE"]);
    expect(complex.problems[0]!.message).toContain("COMPLEX64");
    const constantOnly = buildModel({
      name: "c",
      nodes: [node("Identity", ["w"], ["y"])],
      initializers: [floatTensor("w", [1], new Float32Array([1]))],
      inputs: [],
      outputs: [tensorInfo("y", ElemType.FLOAT, [1])],
    });
    expect(validateModel(constantOnly).problems.map((p) => p.code)).toEqual(["NO_INPUTS"]);
  });

  it("custom-op domains are refused", () => {
    const m = tiny(17);
    m.graph!.node![0]!.domain = "com.example.custom";
    const result = validateModel(m);
    expect(result.problems.map((p) => p.code)).toEqual(["UNSUPPORTED_DOMAIN"]);
  });
});
