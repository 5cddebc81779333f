export interface BlockwiseQuantized {
  /** [N, blocks, blockSize] uint8, the layout com.microsoft.MatMulNBits expects for bits = 8. */
  packed: Uint8Array;
  /** [N, blocks] scales. */
  scales: Float32Array;
  /** [N, blocks] uint8 zero points (8-bit zero points are one byte each, so packing is the identity). */
  zeroPoints: Uint8Array;
  blocks: number;
}

/**
 * Asymmetric 8-bit quantization of a K×N weight in blocks of `blockSize` along K, per output column.
 * The range of each block always contains 0 so that zero padding (K not a multiple of the block)
 * and true zeros are exact. `transposed` means the weight is stored [N, K] (Gemm with transB = 1).
 */
export function quantizeBlockwise8(
  weight: Float32Array,
  k: number,
  n: number,
  blockSize: number,
  transposed: boolean,
): BlockwiseQuantized {
  const blocks = Math.ceil(k / blockSize);
  const packed = new Uint8Array(n * blocks * blockSize);
  const scales = new Float32Array(n * blocks);
  const zeroPoints = new Uint8Array(n * blocks);
  const at = transposed
    ? (row: number, col: number) => col * k + row
    : (row: number, col: number) => row * n + col;
  const mins = new Float32Array(n);
  const maxs = new Float32Array(n);
  for (let b = 0; b < blocks; b++) {
    const k0 = b * blockSize;
    const k1 = Math.min(k, k0 + blockSize);
    mins.fill(0);
    maxs.fill(0);
    // Row-major [K, N] is walked row by row so the inner loop reads memory in order.
    for (let row = k0; row < k1; row++) {
      for (let col = 0; col < n; col++) {
        const v = weight[at(row, col)]!;
        if (v < mins[col]!) mins[col] = v;
        if (v > maxs[col]!) maxs[col] = v;
      }
    }
    for (let col = 0; col < n; col++) {
      const range = maxs[col]! - mins[col]!;
      const scale = range > 0 ? range / 255 : 1;
      const zp = Math.min(255, Math.max(0, Math.round(-mins[col]! / scale)));
      scales[col * blocks + b] = scale;
      zeroPoints[col * blocks + b] = zp;
      // Padding rows past K quantize to the zero point, i.e. exactly 0.
      packed.fill(zp, (col * blocks + b) * blockSize + (k1 - k0), (col * blocks + b + 1) * blockSize);
    }
    for (let row = k0; row < k1; row++) {
      const offset = row - k0;
      for (let col = 0; col < n; col++) {
        const q =
          Math.round(weight[at(row, col)]! / scales[col * blocks + b]!) + zeroPoints[col * blocks + b]!;
        packed[(col * blocks + b) * blockSize + offset] = Math.min(255, Math.max(0, q));
      }
    }
  }
  return { packed, scales, zeroPoints, blocks };
}
