import { randomBytes } from "node:crypto";
import { type PartitionerArgs, Partitioners } from "kafkajs";
import { ulid } from "ulid";
import { describe, expect, it } from "vitest";
import { javaCompatiblePartitioner, keyHash, murmur2 } from "./java-partitioner.js";

/** kafkajs's DefaultPartitioner (what KafkaPublisher uses) for a topic with `n` partitions. */
function kafkajsPartition(key: string | Buffer, n: number): number {
  const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));
  const args = { topic: "t", partitionMetadata, message: { key, value: "" } } as PartitionerArgs;
  return Partitioners.DefaultPartitioner()(args);
}

/** What @platformatic/kafka does with the partitioner's value: modulo the partition count. */
function ours(key: string | Buffer, n: number): number {
  const partitioner = javaCompatiblePartitioner();
  return partitioner({ topic: "t" }, typeof key === "string" ? Buffer.from(key) : key) % n;
}

describe("murmur2 (Java-compatible)", () => {
  it("matches the vectors of Kafka's Java UtilsTest.testMurmur2", () => {
    const cases: [string, number][] = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107],
    ];
    for (const [input, expected] of cases) expect(murmur2(Buffer.from(input))).toBe(expected);
  });

  it("puts 1,000 keys on the same partitions as kafkajs's DefaultPartitioner, for every partition count", () => {
    const keys: (string | Buffer)[] = [];
    for (let i = 0; i < 400; i++) keys.push(`tnt_${ulid()}`);
    for (let i = 0; i < 300; i++) keys.push(`tenant-${i}`);
    // Random bytes of every length 0-40 covers each tail length and non-UTF-8 keys.
    for (let i = 0; i < 300; i++) keys.push(randomBytes(i % 41));
    let negative = 0;
    for (const key of keys) {
      if (murmur2(typeof key === "string" ? Buffer.from(key) : key) < 0) negative++;
      for (const n of [1, 3, 7, 12, 16, 100])
        expect(ours(key, n), `key ${String(key)}, ${n} partitions`).toBe(kafkajsPartition(key, n));
    }
    // Negative hashes are where a `>>> 0` partitioner would disagree; make sure they were exercised.
    expect(negative).toBeGreaterThan(300);
  });

  it("keyHash is never negative", () => {
    for (let i = 0; i < 1000; i++) expect(keyHash(randomBytes(16))).toBeGreaterThanOrEqual(0);
  });

  it("spreads unkeyed records round-robin per topic", () => {
    const partitioner = javaCompatiblePartitioner();
    const a = Array.from({ length: 12 }, () => partitioner({ topic: "a" }, undefined) % 12);
    expect(new Set(a).size).toBe(12);
    for (let i = 1; i < a.length; i++) expect(a[i]).toBe(((a[i - 1] as number) + 1) % 12);
  });
});
