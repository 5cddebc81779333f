import { attr, floatTensor, node, rawTensor } from "./builder.js";
import { allGraphs, consumersOf } from "./graph-walk.js";
import type { AttributeProto, ModelProto, NodeProto, TensorProto } from "./proto.js";
import { int64, onnx } from "./proto.js";
import { quantizeBlockwise8 } from "./quantize-blockwise.js";
import { floatValues } from "./tensor-data.js";

const DT = onnx.TensorProto.DataType;

export interface Int8Options {
  /** Power of two ≥ 16; 32 keeps the error small at ~28% of FP32 size. */
  blockSize?: number;
  /** 4 lets MLAS quantize the activations to int8 and use integer dot products: FP32 speed on CPU. */
  accuracyLevel?: number;
  /** Weights with fewer elements stay FP32: quantizing them saves nothing worth the error. */
  minElements?: number;
}

export interface Int8Report {
  /** Names of the MatMul/Gemm nodes rewritten to MatMulNBits. */
  rewritten: string[];
  /** Candidates left in FP32 and why. */
  skipped: { node: string; reason: string }[];
}

function attrInt(n: NodeProto, name: string, fallback: number): number {
  const a = n.attribute?.find((x) => x.name === name);
  return a ? int64(a.i) : fallback;
}

function attrFloat(n: NodeProto, name: string, fallback: number): number {
  const a = n.attribute?.find((x) => x.name === name);
  return a?.f ?? fallback;
}

function describe(n: NodeProto, index: number): string {
  return n.name || `${n.opType ?? "node"}#${index}`;
}

/**
 * Weight-only 8-bit quantization for CPU serving: every MatMul, and every Gemm with alpha = beta = 1
 * and transA = 0, whose weight is a 2-D FP32 initializer becomes com.microsoft.MatMulNBits (bits 8,
 * blocks along K); a Gemm bias becomes an Add after it. Everything else, Conv included, stays FP32:
 * onnxruntime's CPU kernels for QDQ convolution dequantize on every run, which is what made the
 * DequantizeLinear→Gemm form ~13× slower.
 *
 * @example
 * const { model: int8, report } = quantizeInt8(parseModel(bytes));
 * console.log(report.rewritten.length, "matmuls quantized");
 */
export function quantizeInt8(
  model: ModelProto,
  options: Int8Options = {},
): { model: ModelProto; report: Int8Report } {
  const blockSize = options.blockSize ?? 32;
  const accuracyLevel = options.accuracyLevel ?? 4;
  const minElements = options.minElements ?? 0;
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new RangeError(`blockSize must be a power of two ≥ 16, got ${blockSize}`);
  }
  const graph = model.graph;
  const report: Int8Report = { rewritten: [], skipped: [] };
  if (!graph) return { model, report };

  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? "", t]));
  // Some exporters (Paddle2ONNX among them) store weights in Constant nodes rather than initializers.
  const constantNodes = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) {
    const value = n.opType === "Constant" ? n.attribute?.find((a) => a.name === "value")?.t : undefined;
    const out = n.output?.[0];
    if (value && out && !initializers.has(out)) {
      initializers.set(out, value);
      constantNodes.set(out, n);
    }
  }
  // A weight that is also a graph input can be overridden at run time (IR < 4), so it is not constant.
  const graphInputs = new Set((graph.input ?? []).map((i) => i.name ?? ""));
  const nodes: NodeProto[] = [];
  const added: TensorProto[] = [];
  const used = new Set<string>();

  for (const [index, n] of (graph.node ?? []).entries()) {
    const op = n.opType ?? "";
    const isMatMul = op === "MatMul" && (n.domain ?? "") === "";
    const isGemm = op === "Gemm" && (n.domain ?? "") === "";
    if (!isMatMul && !isGemm) {
      nodes.push(n);
      continue;
    }
    const label = describe(n, index);
    const skip = (reason: string) => {
      report.skipped.push({ node: label, reason });
      nodes.push(n);
    };
    const [a, b, c] = n.input ?? [];
    const weight = initializers.get(b ?? "");
    if (!a || !b || !weight || graphInputs.has(b)) {
      skip("the weight is not a constant initializer");
      continue;
    }
    if ((weight.dims ?? []).length !== 2) {
      skip("the weight is not 2-D");
      continue;
    }
    if (isGemm) {
      if (attrInt(n, "transA", 0) !== 0) {
        skip("Gemm with transA = 1");
        continue;
      }
      if (attrFloat(n, "alpha", 1) !== 1 || (c && attrFloat(n, "beta", 1) !== 1)) {
        skip("Gemm with alpha or beta other than 1");
        continue;
      }
    }
    const values = floatValues(weight);
    if (!values) {
      skip("the weight is not FP32 data stored in the file");
      continue;
    }
    if (values.length < minElements) {
      skip(`the weight has fewer than ${minElements} elements`);
      continue;
    }
    const transposed = isGemm && attrInt(n, "transB", 0) === 1;
    const [d0, d1] = (weight.dims ?? []).map(int64) as [number, number];
    const [k, nOut] = transposed ? [d1, d0] : [d0, d1];

    const q = quantizeBlockwise8(values, k, nOut, blockSize, transposed);
    const base = `${b}__q8_${index}`;
    added.push(
      rawTensor(`${base}_B`, [nOut, q.blocks, blockSize], DT.UINT8, q.packed),
      floatTensor(`${base}_scales`, [nOut, q.blocks], q.scales),
      rawTensor(`${base}_zp`, [nOut, q.blocks], DT.UINT8, q.zeroPoints),
    );
    const out = n.output?.[0] ?? "";
    const mmOut = isGemm && c ? `${out}__q8_mm` : out;
    const attributes: AttributeProto[] = [
      attr.int("K", k),
      attr.int("N", nOut),
      attr.int("bits", 8),
      attr.int("block_size", blockSize),
      attr.int("accuracy_level", accuracyLevel),
    ];
    nodes.push(
      node("MatMulNBits", [a, `${base}_B`, `${base}_scales`, `${base}_zp`], [mmOut], attributes, {
        name: `${label}__q8`,
        domain: "com.microsoft",
      }),
    );
    if (isGemm && c) nodes.push(node("Add", [mmOut, c], [out], [], { name: `${label}__q8_bias` }));
    report.rewritten.push(label);
  }

  // Drop FP32 weights nothing reads any more (subgraphs may read outer-scope initializers too).
  for (const n of nodes) for (const i of n.input ?? []) used.add(i);
  for (const g of allGraphs(graph)) {
    if (g === graph) continue;
    for (const name of consumersOf(g).keys()) used.add(name);
  }
  for (const o of graph.output ?? []) used.add(o.name ?? "");
  const kept = (graph.initializer ?? []).filter(
    (t) => used.has(t.name ?? "") || graphInputs.has(t.name ?? ""),
  );
  const liveNodes = nodes.filter((n) => {
    const out = n.output?.[0] ?? "";
    return !(constantNodes.get(out) === n && !used.has(out));
  });

  const opsetImport = [...(model.opsetImport ?? [])];
  if (report.rewritten.length > 0 && !opsetImport.some((o) => o.domain === "com.microsoft")) {
    opsetImport.push({ domain: "com.microsoft", version: 1 });
  }
  const out = onnx.ModelProto.create({
    ...model,
    opsetImport,
    graph: { ...graph, node: liveNodes, initializer: [...kept, ...added] },
  });
  return { model: out, report };
}

/**
 * The INT8 variant of a model (see quantizeInt8 for what is rewritten).
 *
 * @example
 * const bytes = encodeModel(toInt8(parseModel(fp32Bytes)));
 */
export function toInt8(model: ModelProto, options: Int8Options = {}): ModelProto {
  return quantizeInt8(model, options).model;
}
