import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteTestTopics, kafkaBrokers } from "../testing/infra.js";
import { createKafka } from "./create-kafka.js";
import { createTopicsAndWait } from "./create-topics.js";

describe("createTopicsAndWait (real Kafka)", () => {
  let kafka: Kafka;
  const topics: string[] = [];
  beforeAll(() => {
    kafka = createKafka({ brokers: kafkaBrokers(), clientId: "create-topics-int-test" });
  });
  afterAll(async () => {
    await deleteTestTopics(kafka, topics);
  });

  it("returns once every partition of every topic has a leader, and an existing topic is no error", async () => {
    const a = `test.create.${randomUUID()}`;
    const b = `test.create.${randomUUID()}`;
    topics.push(a, b);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await createTopicsAndWait(admin, [
        { topic: a, numPartitions: 3, replicationFactor: 1 },
        { topic: b, numPartitions: 2, replicationFactor: 1 },
      ]);
      const meta = await admin.fetchTopicMetadata({ topics: [a, b] });
      const parts = (name: string) => meta.topics.find((t) => t.name === name)?.partitions ?? [];
      expect(parts(a)).toHaveLength(3);
      expect(parts(b)).toHaveLength(2);
      for (const p of [...parts(a), ...parts(b)]) expect(p.leader).toBeGreaterThanOrEqual(0);
      await expect(
        createTopicsAndWait(admin, [{ topic: a, numPartitions: 3, replicationFactor: 1 }]),
      ).resolves.toBeUndefined();
    } finally {
      await admin.disconnect();
    }
  });
});
