import { createEvent, encodeKafka, events, type MaasEvent } from "@maas/events";
import { createKafka } from "@maas/events/kafka";
import { createTestTopic, deleteTestTopics, kafkaBrokers, waitFor } from "@maas/events/testing";
import type { KafkaMessage, Message, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEAD_LETTER_HEADERS, kafkaDeadLetter } from "./dead-letter.js";
import { UsageBatchConsumer } from "./usage-batch-consumer.js";
import type { IngestResult } from "./usage-ingestor.js";

const kafka = createKafka({ brokers: kafkaBrokers(), clientId: "usage-consumer-test" });
const topics: string[] = [];
let producer: Producer;

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await deleteTestTopics(kafka, topics);
});

function ok(n: number): IngestResult {
  return { received: n, inserted: n, duplicates: 0, late: 0, totals: [] };
}

function usage(i: number): MaasEvent {
  return createEvent(events.inferenceCompleted, {
    source: "/functions/gateway",
    data: {
      tenantId: "tnt_acme",
      deploymentId: "dep_1",
      modelId: "mdl_1",
      versionId: "mver_1",
      requestId: `req_${i}`,
      status: "ok",
      startedAt: "2026-11-25T12:00:00.000Z",
      durationMs: 5,
      inputBytes: 10,
      outputBytes: 10,
      costMicros: 100,
    },
  });
}

async function readAll(topic: string, count: number): Promise<KafkaMessage[]> {
  const got: KafkaMessage[] = [];
  const reader = kafka.consumer({ groupId: `reader-${topic}` });
  await reader.connect();
  await reader.subscribe({ topics: [topic], fromBeginning: true });
  await reader.run({ eachMessage: async ({ message }) => void got.push(message) });
  await waitFor(`${count} records on ${topic}`, () => got.length >= count);
  await reader.disconnect();
  return got;
}

describe("UsageBatchConsumer dead letters (real Kafka)", () => {
  it("ingests the valid records, copies the invalid ones byte for byte to the dead-letter topic with the reason, and commits", async () => {
    const [source, dlq] = [await createTestTopic(kafka), await createTestTopic(kafka)];
    topics.push(source as string, dlq as string);
    const valid = [usage(1), usage(2), usage(3)].map((e) => encodeKafka(e));
    const garbage: Message[] = [
      { key: "tnt_acme", value: Buffer.from("{not json"), headers: { "content-type": "application/json" } },
      { key: null, value: Buffer.from(JSON.stringify({ hello: "world" })), headers: { "x-from": "kcat" } },
    ];
    const [v1, v2, v3] = valid as [Message, Message, Message];
    const [g1, g2] = garbage as [Message, Message];
    const garbageValues = garbage.map((g) => String(g.value));
    await producer.send({ topic: source as string, messages: [v1, g1, v2, g2, v3] });

    const ingested: MaasEvent[] = [];
    const groupId = `metering-${source}`;
    const start = () =>
      new UsageBatchConsumer({
        kafka,
        groupId,
        topic: source as string,
        fromBeginning: true,
        ingest: async (evs) => {
          ingested.push(...evs);
          return ok(evs.length);
        },
        deadLetter: kafkaDeadLetter(producer, dlq as string),
      });
    const consumer = start();
    await consumer.start();
    await waitFor("3 ingested", () => ingested.length >= 3);
    await consumer.stop();
    expect(ingested.map((e) => (e.data as { requestId: string }).requestId)).toEqual([
      "req_1",
      "req_2",
      "req_3",
    ]);

    const dead = await readAll(dlq as string, 2);
    expect(dead.map((m) => m.value?.toString())).toEqual(garbageValues);
    expect(dead[0]?.key?.toString()).toBe("tnt_acme");
    expect(dead[1]?.headers?.["x-from"]?.toString()).toBe("kcat");
    for (const [i, m] of dead.entries()) {
      expect(m.headers?.[DEAD_LETTER_HEADERS.topic]?.toString()).toBe(source);
      expect(m.headers?.[DEAD_LETTER_HEADERS.offset]?.toString()).toBe(String(i * 2 + 1));
      expect(m.headers?.[DEAD_LETTER_HEADERS.reason]?.toString().length).toBeGreaterThan(0);
    }

    // Committed after the dead letters: a restarted consumer of the same group gets nothing again.
    ingested.length = 0;
    const again = start();
    await again.start();
    await new Promise((r) => setTimeout(r, 3000));
    await again.stop();
    expect(ingested).toEqual([]);
  });

  it("does not commit a batch whose dead letters could not be written: it comes again", async () => {
    const source = await createTestTopic(kafka);
    topics.push(source);
    await producer.send({
      topic: source,
      messages: [{ value: Buffer.from("garbage") }, encodeKafka(usage(9))],
    });
    let attempts = 0;
    const ingested: MaasEvent[] = [];
    const consumer = new UsageBatchConsumer({
      kafka,
      groupId: `metering-${source}`,
      topic: source,
      fromBeginning: true,
      retryBackoff: { initialMs: 50, maxMs: 100 },
      ingest: async (evs) => {
        ingested.push(...evs);
        return ok(evs.length);
      },
      deadLetter: async () => {
        attempts++;
        if (attempts < 3) throw new Error("dead-letter topic unreachable");
      },
    });
    await consumer.start();
    await waitFor("the batch after two failed dead-letter writes", () => ingested.length >= 1);
    await consumer.stop();
    expect(attempts).toBe(3);
    // Nothing was ingested while the dead letters failed: the valid record came once, with its batch.
    expect(ingested).toHaveLength(1);
  });
});
