import type { V2Datatype } from "@maas/onnx";

/**
 * Open Inference Protocol v2 datatypes and the typed arrays that hold them. Everything the service
 * moves between HTTP, the batcher and the session workers is a HostTensor: a name, a v2 datatype, a
 * shape, and little-endian element storage (the v2 binary extension's layout, and ORT's).
 */
/** The v2 datatypes this service moves as numeric tensors (the ONNX package's list less BF16 and BYTES). */
export type ServedDatatype = Exclude<V2Datatype, "BF16" | "BYTES">;

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

export interface HostTensor {
  name: string;
  datatype: ServedDatatype;
  shape: number[];
  data: TensorData;
}

/** The ORT tensor type string for each served datatype (FP16 travels as raw uint16 bits). */
export type OrtTypeName =
  | "bool"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "float16"
  | "float32"
  | "float64";

interface DatatypeInfo {
  ort: OrtTypeName;
  bytes: number;
  make: (buffer: ArrayBufferLike, byteOffset: number, length: number) => TensorData;
  alloc: (length: number) => TensorData;
}

export const DATATYPES: Readonly<Record<ServedDatatype, DatatypeInfo>> = {
  BOOL: {
    ort: "bool",
    bytes: 1,
    make: (b, o, n) => new Uint8Array(b, o, n),
    alloc: (n) => new Uint8Array(n),
  },
  UINT8: {
    ort: "uint8",
    bytes: 1,
    make: (b, o, n) => new Uint8Array(b, o, n),
    alloc: (n) => new Uint8Array(n),
  },
  UINT16: {
    ort: "uint16",
    bytes: 2,
    make: (b, o, n) => new Uint16Array(b, o, n),
    alloc: (n) => new Uint16Array(n),
  },
  UINT32: {
    ort: "uint32",
    bytes: 4,
    make: (b, o, n) => new Uint32Array(b, o, n),
    alloc: (n) => new Uint32Array(n),
  },
  UINT64: {
    ort: "uint64",
    bytes: 8,
    make: (b, o, n) => new BigUint64Array(b, o, n),
    alloc: (n) => new BigUint64Array(n),
  },
  INT8: { ort: "int8", bytes: 1, make: (b, o, n) => new Int8Array(b, o, n), alloc: (n) => new Int8Array(n) },
  INT16: {
    ort: "int16",
    bytes: 2,
    make: (b, o, n) => new Int16Array(b, o, n),
    alloc: (n) => new Int16Array(n),
  },
  INT32: {
    ort: "int32",
    bytes: 4,
    make: (b, o, n) => new Int32Array(b, o, n),
    alloc: (n) => new Int32Array(n),
  },
  INT64: {
    ort: "int64",
    bytes: 8,
    make: (b, o, n) => new BigInt64Array(b, o, n),
    alloc: (n) => new BigInt64Array(n),
  },
  FP16: {
    ort: "float16",
    bytes: 2,
    make: (b, o, n) => new Uint16Array(b, o, n),
    alloc: (n) => new Uint16Array(n),
  },
  FP32: {
    ort: "float32",
    bytes: 4,
    make: (b, o, n) => new Float32Array(b, o, n),
    alloc: (n) => new Float32Array(n),
  },
  FP64: {
    ort: "float64",
    bytes: 8,
    make: (b, o, n) => new Float64Array(b, o, n),
    alloc: (n) => new Float64Array(n),
  },
};

const BY_ORT = new Map<string, ServedDatatype>(
  (Object.entries(DATATYPES) as [ServedDatatype, DatatypeInfo][]).map(([k, v]) => [v.ort, k]),
);

export function isServedDatatype(value: string): value is ServedDatatype {
  return Object.hasOwn(DATATYPES, value);
}

/** The v2 datatype for an ORT tensor type, or undefined (string, bfloat16, 4-bit types …). */
export function datatypeFromOrt(type: string): ServedDatatype | undefined {
  return BY_ORT.get(type);
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A typed view over `bytes` without copying when the offset is aligned; otherwise (a binary tensor
 * that starts at an odd offset inside the request body) one copy into fresh, aligned storage.
 */
export function viewBytes(datatype: ServedDatatype, bytes: Uint8Array): TensorData {
  const info = DATATYPES[datatype];
  const length = bytes.byteLength / info.bytes;
  if (bytes.byteOffset % info.bytes === 0) return info.make(bytes.buffer, bytes.byteOffset, length);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return info.make(copy.buffer, 0, length);
}

/** The tensor's elements as little-endian bytes (a view, never a copy). */
export function tensorBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
