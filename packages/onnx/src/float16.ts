/** Float16Array is in Node 24's V8 but not yet in the TypeScript lib this repo targets. */
interface Float16ArrayInstance {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly byteLength: number;
  readonly length: number;
  [index: number]: number;
}
type Float16ArrayConstructor = {
  new (source: ArrayLike<number>): Float16ArrayInstance;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): Float16ArrayInstance;
};

function float16Ctor(): Float16ArrayConstructor {
  const ctor = (globalThis as unknown as { Float16Array?: Float16ArrayConstructor }).Float16Array;
  if (!ctor) throw new Error("Float16Array is not available: Node 24 or later is required");
  return ctor;
}

/** Largest finite FP16 value; FP32 weights beyond it are clamped rather than becoming ±Infinity. */
export const FP16_MAX = 65504;

/** FP32 values → little-endian IEEE half bytes (round to nearest even, clamped to the finite range). */
export function toFloat16Bytes(values: Float32Array): Uint8Array {
  let source: Float32Array = values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > FP16_MAX || v < -FP16_MAX) {
      if (source === values) source = values.slice();
      source[i] = v > 0 ? FP16_MAX : -FP16_MAX;
    }
  }
  const half = new (float16Ctor())(source);
  return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
}

/** Little-endian IEEE half bytes → FP32 values. */
export function fromFloat16Bytes(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const half = new (float16Ctor())(copy.buffer, 0, copy.byteLength / 2);
  return Float32Array.from({ length: half.length }, (_, i) => half[i]!);
}
