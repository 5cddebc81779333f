import type { TensorProto } from "./proto.js";
import { int64, onnx } from "./proto.js";

const DT = onnx.TensorProto.DataType;

/** Number of elements of a tensor from its dims (1 for a scalar). */
export function elementCount(t: TensorProto): number {
  return (t.dims ?? []).reduce<number>((n, d) => n * int64(d), 1);
}

/**
 * The values of an FP32 tensor, whichever field holds them (raw_data or float_data); undefined for
 * other types and for external data. Always a copy: raw_data from the decoder may sit at an offset
 * that is not 4-byte aligned.
 */
export function floatValues(t: TensorProto): Float32Array | undefined {
  if (t.dataType !== DT.FLOAT || t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return undefined;
  if (t.rawData && t.rawData.byteLength > 0) {
    const copy = new Uint8Array(t.rawData.byteLength);
    copy.set(t.rawData);
    return new Float32Array(copy.buffer);
  }
  if (t.floatData && t.floatData.length > 0) return Float32Array.from(t.floatData);
  return elementCount(t) === 0 ? new Float32Array(0) : undefined;
}

/** Bytes of a tensor as stored (raw_data or the typed repeated field's length), for size accounting. */
export function storedBytes(t: TensorProto): number {
  if (t.rawData) return t.rawData.byteLength;
  return (t.floatData?.length ?? 0) * 4 + (t.int32Data?.length ?? 0) * 4 + (t.int64Data?.length ?? 0) * 8;
}
