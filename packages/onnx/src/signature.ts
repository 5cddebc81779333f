import type { V2Datatype } from "./dtypes.js";
import { v2Datatype } from "./dtypes.js";
import type { ModelProto, ValueInfoProto } from "./proto.js";
import { int64 } from "./proto.js";

export interface TensorSpec {
  name: string;
  datatype: V2Datatype;
  /** -1 marks a dynamic dimension (dim_param, or no value). */
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** The ai.onnx opset the model is stamped with. */
  opset: number;
  /** `producer_name producer_version`, trimmed; empty when the exporter left it out. */
  producer: string;
  /** True when any input's axis 0 is dynamic, so requests of different batch sizes can be stacked. */
  dynamicBatch: boolean;
}

/** The ai.onnx opset version, or 0 when the model declares none. */
export function aiOnnxOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  return entry ? int64(entry.version) : 0;
}

/** Graph inputs that are real inputs: IR < 4 models also list initializers as inputs. */
export function realInputs(model: ModelProto): ValueInfoProto[] {
  const initializers = new Set((model.graph?.initializer ?? []).map((t) => t.name ?? ""));
  return (model.graph?.input ?? []).filter((i) => !initializers.has(i.name ?? ""));
}

/** Shape of a value as numbers, -1 for each dynamic axis; undefined when the rank is unknown. */
export function shapeOf(info: ValueInfoProto): number[] | undefined {
  const shape = info.type?.tensorType?.shape;
  if (!shape) return undefined;
  return (shape.dim ?? []).map((d) => {
    const v = d.dimValue === undefined || d.dimValue === null ? -1 : int64(d.dimValue);
    return d.dimParam || v <= 0 ? -1 : v;
  });
}

function spec(info: ValueInfoProto): TensorSpec | undefined {
  const datatype = v2Datatype(info.type?.tensorType?.elemType ?? 0);
  if (!datatype) return undefined;
  return { name: info.name ?? "", datatype, shape: shapeOf(info) ?? [] };
}

/** True when the input has rank ≥ 1 and axis 0 is symbolic or unset. */
export function hasDynamicBatch(info: ValueInfoProto): boolean {
  const shape = shapeOf(info);
  return shape !== undefined && shape.length > 0 && shape[0] === -1;
}

/**
 * The serving signature: v2 datatypes, shapes with -1 for dynamic axes. Inputs or outputs whose type
 * cannot be served are left out; validateModel reports them.
 *
 * @example
 * const sig = extractSignature(parseModel(bytes));
 * sig.inputs[0]; // { name: "input", datatype: "FP32", shape: [-1, 64] }
 */
export function extractSignature(model: ModelProto): ModelSignature {
  const inputs = realInputs(model);
  return {
    inputs: inputs.map(spec).filter((s): s is TensorSpec => s !== undefined),
    outputs: (model.graph?.output ?? []).map(spec).filter((s): s is TensorSpec => s !== undefined),
    opset: aiOnnxOpset(model),
    producer: `${model.producerName ?? ""} ${model.producerVersion ?? ""}`.trim(),
    dynamicBatch: inputs.some(hasDynamicBatch),
  };
}
