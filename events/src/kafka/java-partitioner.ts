/**
 * Kafka's Java `Utils.murmur2` (the hash behind the Java client's and kafkajs's default partitioner)
 * in 32-bit integer arithmetic. Why our own: @platformatic/kafka's `defaultPartitioner` turns the
 * hash positive with `>>> 0` where Java masks with `& 0x7fffffff`, so a key lands on a different
 * partition than kafkajs or Java put it whenever the hash is negative and the partition count is not a
 * power of two (12 here); its `compatibilityPartitioner` is right but hashes through BigInt on every
 * record. `Math.imul` gives the same 32-bit wrap-around as Java's `int` multiplication.
 *
 * @example
 * murmur2(Buffer.from("21")); // -973932308, as in Kafka's UtilsTest
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The trailing 1-3 bytes, as Java's switch with fall-through.
  const rest = length & 3;
  if (rest >= 3) h ^= (data[length4 + 2] as number) << 16;
  if (rest >= 2) h ^= (data[length4 + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[length4] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Java's `Utils.toPositive`: the partition of a keyed record is `toPositive(murmur2(key)) % partitions`. */
export function keyHash(key: Uint8Array): number {
  return murmur2(key) & 0x7fffffff;
}

/**
 * A partitioner for @platformatic/kafka that places records as kafkajs's `DefaultPartitioner` and the
 * Java client do: keyed records by `toPositive(murmur2(key))`, unkeyed ones round-robin per topic.
 * It returns the un-reduced value; the producer takes it modulo the topic's partition count.
 *
 * @example
 * new Producer({ clientId, bootstrapBrokers, partitioner: javaCompatiblePartitioner() });
 */
export function javaCompatiblePartitioner(): (message: { topic: string }, key: Buffer | undefined) => number {
  const counters = new Map<string, number>();
  return (message, key) => {
    if (key !== undefined && key !== null) return keyHash(key);
    const next = ((counters.get(message.topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1) & 0x7fffffff;
    counters.set(message.topic, next);
    return next;
  };
}
