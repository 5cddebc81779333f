/**
 * A small seeded PRNG (mulberry32): the zoo and generated test inputs must be identical run to run,
 * and Math.random cannot be seeded.
 *
 * @example
 * const rand = seededRandom(42);
 * rand(); // 0 <= x < 1, same sequence for the same seed
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` with approximately normal values (Box-Muller) scaled by `std`. */
export function fillNormal(out: Float32Array, rand: () => number, std = 1): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}
