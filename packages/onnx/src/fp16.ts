import * as ort from "onnxruntime-node";
import { attr, node } from "./builder.js";
import { FP16_MAX, toFloat16Bytes } from "./float16.js";
import { inferElementTypes } from "./infer-types.js";
import type { AttributeProto, ModelProto, NodeProto, TensorProto } from "./proto.js";
import { int64, onnx } from "./proto.js";
import { floatValues } from "./tensor-data.js";

const DT = onnx.TensorProto.DataType;

/**
 * Ops kept in FP32 (their inputs cast back): ops that generate values from a dtype attribute, index
 * and range arithmetic where FP16 loses integers above 2048, and the ones the onnxconverter-common
 * tool keeps out of FP16 for accuracy or missing kernels.
 */
export const FP16_BLOCK_LIST: readonly string[] = [
  "ArrayFeatureExtractor",
  "Binarizer",
  "CumSum",
  "EyeLike",
  "Max",
  "Min",
  "Multinomial",
  "NonMaxSuppression",
  "RandomNormal",
  "RandomNormalLike",
  "RandomUniform",
  "RandomUniformLike",
  "Range",
  "RoiAlign",
  "TopK",
  "Upsample",
  "QuantizeLinear",
  "DequantizeLinear",
  "DynamicQuantizeLinear",
  "If",
  "Loop",
  "Scan",
];

/** Inputs that must stay FP32 even when the op itself runs in FP16 (by the op's type constraints). */
const FP32_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Resize: [1, 2],
};

export interface Fp16Options {
  blockList?: readonly string[];
}

export interface Fp16Report {
  /** graph: the whole graph computes in FP16 between Casts at the FP32 boundary; weights-only: FP16
   * storage with a Cast to FP32 after each weight (used when the graph form does not load). */
  mode: "graph" | "weights-only";
  convertedInitializers: number;
  keptFp32Nodes: number;
  /** Why the graph form was not used, when it was not. */
  fallbackReason?: string;
}

function fp16Initializer(t: TensorProto, name = t.name ?? ""): TensorProto | undefined {
  const values = floatValues(t);
  if (!values) return undefined;
  return { name, dims: t.dims ?? [], dataType: DT.FLOAT16, rawData: toFloat16Bytes(values) };
}

function exceedsFp16(t: TensorProto): boolean {
  const values = floatValues(t);
  if (!values) return false;
  for (const v of values) if (v > FP16_MAX || v < -FP16_MAX) return true;
  return false;
}

function hasSubgraphs(model: ModelProto): boolean {
  return (model.graph?.node ?? []).some((n) =>
    (n.attribute ?? []).some((a) => a.g || (a.graphs ?? []).length > 0),
  );
}

/** FP16 storage, FP32 compute: each weight is stored half size and cast back once at load time. */
function weightsOnly(model: ModelProto): { model: ModelProto; converted: number } {
  const graph = model.graph ?? {};
  const inputs = new Set((graph.input ?? []).map((i) => i.name ?? ""));
  const casts: NodeProto[] = [];
  let converted = 0;
  const initializer = (graph.initializer ?? []).map((t) => {
    const name = t.name ?? "";
    const half = inputs.has(name) ? undefined : fp16Initializer(t, `${name}__fp16`);
    if (!half) return t;
    converted++;
    casts.push(
      node("Cast", [`${name}__fp16`], [name], [attr.int("to", DT.FLOAT)], { name: `${name}__to_fp32` }),
    );
    return half;
  });
  return {
    model: onnx.ModelProto.create({
      ...model,
      graph: { ...graph, initializer, node: [...casts, ...(graph.node ?? [])] },
    }),
    converted,
  };
}

async function graphForm(model: ModelProto, blockList: ReadonlySet<string>) {
  const graph = model.graph ?? {};
  const types = await inferElementTypes(model);
  const isFloat = (name: string) => types.get(name) === "float32";
  const graphInputs = new Set((graph.input ?? []).map((i) => i.name ?? ""));
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ""));
  // Constants beyond the FP16 range (exporters use 1e8 and the like as "infinity") would saturate:
  // the nodes that read them, and the Constant nodes that make them, stay FP32.
  const wide = new Set<string>();
  for (const t of graph.initializer ?? []) if (exceedsFp16(t)) wide.add(t.name ?? "");
  for (const n of graph.node ?? []) {
    if (n.opType === "Constant" && (n.attribute ?? []).some((a) => a.t && exceedsFp16(a.t))) {
      for (const o of n.output ?? []) wide.add(o);
    }
  }
  const converts = (n: NodeProto) =>
    !blockList.has(n.opType ?? "") &&
    (n.domain ?? "") === "" &&
    !(n.input ?? []).some((i) => wide.has(i)) &&
    !(n.opType === "Constant" && (n.output ?? []).some((o) => wide.has(o)));

  // Which FP32 tensors are FP16 in the new graph: outputs of converted nodes and converted weights.
  const half = new Set<string>();
  const wantsHalf = new Set<string>();
  for (const n of graph.node ?? []) {
    if (!converts(n)) continue;
    const fp32Slots = FP32_INPUTS[n.opType ?? ""] ?? [];
    (n.input ?? []).forEach((i, slot) => {
      if (i && !fp32Slots.includes(slot)) wantsHalf.add(i);
    });
    for (const o of n.output ?? []) if (o && isFloat(o)) half.add(o);
  }
  let convertedInitializers = 0;
  const initializer = (graph.initializer ?? []).map((t) => {
    const name = t.name ?? "";
    if (!wantsHalf.has(name) || graphInputs.has(name) || t.dataType !== DT.FLOAT) return t;
    const converted = fp16Initializer(t);
    if (!converted) return t;
    half.add(name);
    convertedInitializers++;
    return converted;
  });

  // Graph outputs keep their FP32 name: the FP16 producer writes a renamed tensor, cast back at the end.
  const rename = (name: string) => (outputs.has(name) && half.has(name) ? `${name}__fp16` : name);
  const casts = new Map<string, string>();
  const nodes: NodeProto[] = [];
  const castTo = (name: string, toHalf: boolean): string => {
    const key = `${name}|${toHalf}`;
    const existing = casts.get(key);
    if (existing) return existing;
    const out = `${name}__to_${toHalf ? "fp16" : "fp32"}`;
    nodes.push(
      node("Cast", [rename(name)], [out], [attr.int("to", toHalf ? DT.FLOAT16 : DT.FLOAT)], { name: out }),
    );
    casts.set(key, out);
    return out;
  };

  let keptFp32Nodes = 0;
  for (const n of graph.node ?? []) {
    const convert = converts(n);
    if (!convert) keptFp32Nodes++;
    const fp32Slots = convert ? (FP32_INPUTS[n.opType ?? ""] ?? []) : [];
    const input = (n.input ?? []).map((i, slot) => {
      if (!i || !isFloat(i)) return i;
      const wantHalf = convert && !fp32Slots.includes(slot);
      return wantHalf === half.has(i) ? rename(i) : castTo(i, wantHalf);
    });
    let attribute: AttributeProto[] = n.attribute ?? [];
    if (convert) {
      attribute = attribute.map((a) => {
        if (n.opType === "Cast" && a.name === "to" && int64(a.i) === DT.FLOAT)
          return attr.int("to", DT.FLOAT16);
        if (a.t && a.t.dataType === DT.FLOAT) {
          const t = fp16Initializer(a.t);
          return t ? attr.tensor(a.name ?? "", t) : a;
        }
        return a;
      });
    }
    nodes.push({ ...n, input, output: (n.output ?? []).map(rename), attribute });
  }
  for (const o of graph.output ?? []) {
    const name = o.name ?? "";
    if (half.has(name)) {
      nodes.push(
        node("Cast", [`${name}__fp16`], [name], [attr.int("to", DT.FLOAT)], { name: `${name}__to_fp32_out` }),
      );
    }
  }
  const out = onnx.ModelProto.create({
    ...model,
    // Intermediate value_info carried the FP32 types; onnxruntime re-infers them.
    graph: { ...graph, node: nodes, initializer, valueInfo: [] },
  });
  return { model: out, convertedInitializers, keptFp32Nodes };
}

/**
 * The FP16 variant: weights stored as FP16 (≈ half the file) and the graph computing in FP16 between
 * Casts, so the model's inputs and outputs stay FP32 and clients see no difference. The FP16 compute
 * pays off on GPU; on the CPU provider onnxruntime runs most of it in FP32 again. If the graph form
 * does not load (control flow, ops without FP16 kernels), falls back to FP16 storage with FP32 compute.
 *
 * @example
 * const { model, report } = await toFp16(parseModel(bytes));
 * await writeFile("model.fp16.onnx", encodeModel(model));
 */
export async function toFp16(
  model: ModelProto,
  options: Fp16Options = {},
): Promise<{ model: ModelProto; report: Fp16Report }> {
  const blockList = new Set(options.blockList ?? FP16_BLOCK_LIST);
  let fallbackReason: string;
  if (hasSubgraphs(model)) {
    fallbackReason = "the graph has control-flow subgraphs";
  } else {
    try {
      const result = await graphForm(model, blockList);
      // The rewrite is only as good as the loaded session: check it before handing it out.
      const session = await ort.InferenceSession.create(onnx.ModelProto.encode(result.model).finish(), {
        logSeverityLevel: 3,
        intraOpNumThreads: 1,
      });
      await session.release();
      return {
        model: result.model,
        report: {
          mode: "graph",
          convertedInitializers: result.convertedInitializers,
          keptFp32Nodes: result.keptFp32Nodes,
        },
      };
    } catch (error) {
      fallbackReason = `the FP16 graph did not load: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const fallback = weightsOnly(model);
  return {
    model: fallback.model,
    report: {
      mode: "weights-only",
      convertedInitializers: fallback.converted,
      keptFp32Nodes: 0,
      fallbackReason,
    },
  };
}
