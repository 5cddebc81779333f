import { onnx } from "./proto.js";

const DT = onnx.TensorProto.DataType;

/** Open Inference Protocol v2 tensor datatype names. */
export type V2Datatype =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP16"
  | "FP32"
  | "FP64"
  | "BF16"
  | "BYTES";

/** ONNX element type → v2 name, for the element types the serving path accepts at the model boundary. */
const V2_BY_ONNX: ReadonlyMap<number, V2Datatype> = new Map<number, V2Datatype>([
  [DT.BOOL, "BOOL"],
  [DT.UINT8, "UINT8"],
  [DT.UINT16, "UINT16"],
  [DT.UINT32, "UINT32"],
  [DT.UINT64, "UINT64"],
  [DT.INT8, "INT8"],
  [DT.INT16, "INT16"],
  [DT.INT32, "INT32"],
  [DT.INT64, "INT64"],
  [DT.FLOAT16, "FP16"],
  [DT.FLOAT, "FP32"],
  [DT.DOUBLE, "FP64"],
  [DT.BFLOAT16, "BF16"],
  [DT.STRING, "BYTES"],
]);

/** The v2 datatype for an ONNX element type, or undefined when the platform cannot serve it. */
export function v2Datatype(elemType: number): V2Datatype | undefined {
  return V2_BY_ONNX.get(elemType);
}

/** A readable ONNX element type name for messages (`FLOAT`, `COMPLEX64`, `43` for unknown ones). */
export function onnxTypeName(elemType: number): string {
  return (DT as unknown as Record<number, string>)[elemType] ?? String(elemType);
}
