// onnx-proto ships protobufjs static code generated from onnx.proto (ONNX 1.10 schema) as CommonJS
// that assigns its namespace at run time, so Node's ESM named-export detection cannot see it: take
// the default export and re-export the namespace.
import onnxProto from "onnx-proto";

export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from "onnx-proto";

import type { onnx as O } from "onnx-proto";

export type ModelProto = O.ModelProto;
export type GraphProto = O.IGraphProto;
export type NodeProto = O.INodeProto;
export type TensorProto = O.ITensorProto;
export type ValueInfoProto = O.IValueInfoProto;
export type AttributeProto = O.IAttributeProto;

/** protobufjs decodes int64 fields as `Long` objects (the `long` package is installed beside it). */
export interface LongLike {
  toNumber(): number;
}

/** An int64 field as a JS number; ONNX dims and versions stay far below 2^53. */
export function int64(value: number | LongLike | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : value.toNumber();
}
