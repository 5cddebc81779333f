import type {
  AttributeProto,
  GraphProto,
  ModelProto,
  NodeProto,
  TensorProto,
  ValueInfoProto,
} from "./proto.js";
import { onnx } from "./proto.js";

const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

/** ONNX element type codes (TensorProto.DataType), re-exported so callers need not import onnx-proto. */
export const ElemType = {
  FLOAT: DT.FLOAT,
  UINT8: DT.UINT8,
  INT8: DT.INT8,
  INT32: DT.INT32,
  INT64: DT.INT64,
  BOOL: DT.BOOL,
  FLOAT16: DT.FLOAT16,
  DOUBLE: DT.DOUBLE,
} as const;

/** A dimension: a fixed size, or a symbolic name (`"batch"`) for a dynamic one. */
export type Dim = number | string;

/** Tensor raw_data is little-endian by the ONNX spec; typed arrays use the host order, which must match. */
function littleEndianBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** An FP32 initializer stored as raw_data. */
export function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  return { name, dims, dataType: DT.FLOAT, rawData: littleEndianBytes(data) };
}

/** An INT64 initializer (shapes for Reshape and the like). */
export function int64Tensor(name: string, dims: number[], values: number[]): TensorProto {
  return { name, dims, dataType: DT.INT64, rawData: littleEndianBytes(BigInt64Array.from(values, BigInt)) };
}

/** A tensor of any element type from bytes already laid out little-endian. */
export function rawTensor(name: string, dims: number[], dataType: number, bytes: Uint8Array): TensorProto {
  return { name, dims, dataType, rawData: bytes };
}

/** A typed graph input/output; string dims become dim_param (dynamic). */
export function tensorInfo(name: string, elemType: number, shape: Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Attribute constructors, one per ONNX attribute kind. */
export const attr = {
  int: (name: string, i: number): AttributeProto => ({ name, type: AT.INT, i }),
  float: (name: string, f: number): AttributeProto => ({ name, type: AT.FLOAT, f }),
  string: (name: string, s: string): AttributeProto => ({
    name,
    type: AT.STRING,
    s: new TextEncoder().encode(s),
  }),
  ints: (name: string, ints: number[]): AttributeProto => ({ name, type: AT.INTS, ints }),
  floats: (name: string, floats: number[]): AttributeProto => ({ name, type: AT.FLOATS, floats }),
  tensor: (name: string, t: TensorProto): AttributeProto => ({ name, type: AT.TENSOR, t }),
};

/** A graph node; `domain` defaults to the standard ai.onnx domain. */
export function node(
  opType: string,
  input: string[],
  output: string[],
  attribute: AttributeProto[] = [],
  options: { name?: string; domain?: string } = {},
): NodeProto {
  return { opType, input, output, attribute, name: options.name ?? "", domain: options.domain ?? "" };
}

export interface ModelSpec {
  name: string;
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: TensorProto[];
  /** ai.onnx opset; 17 is well inside what the bundled onnxruntime supports. */
  opset?: number;
  extraOpsets?: { domain: string; version: number }[];
  producer?: string;
  docString?: string;
}

/**
 * Builds a ModelProto from plain parts.
 *
 * @example
 * const model = buildModel({
 *   name: "relu",
 *   nodes: [node("Relu", ["x"], ["y"])],
 *   inputs: [tensorInfo("x", ElemType.FLOAT, ["batch", 4])],
 *   outputs: [tensorInfo("y", ElemType.FLOAT, ["batch", 4])],
 * });
 * const bytes = encodeModel(model);
 */
export function buildModel(spec: ModelSpec): ModelProto {
  const graph: GraphProto = {
    name: spec.name,
    node: spec.nodes,
    input: spec.inputs,
    output: spec.outputs,
    initializer: spec.initializers ?? [],
  };
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: spec.producer ?? "maas-zoo",
    producerVersion: "1",
    docString: spec.docString ?? "",
    opsetImport: [{ domain: "", version: spec.opset ?? 17 }, ...(spec.extraOpsets ?? [])],
    graph,
  });
}

/** Serialises a model to protobuf bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
