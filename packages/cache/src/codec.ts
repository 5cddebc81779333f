/** How values travel through Redis. JSON by default; bigints need their own codec (see quotaCodec). */
export interface Codec<V> {
  encode(value: V): string;
  decode(text: string): V;
}

export function jsonCodec<V>(): Codec<V> {
  return { encode: (v) => JSON.stringify(v), decode: (t) => JSON.parse(t) as V };
}
