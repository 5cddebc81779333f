import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { events } from "../catalog/events.js";
import { decodeKafka } from "../codec/kafka.js";
import { createEvent } from "../event/create-event.js";
import type { MaasEvent } from "../event/maas-event.js";
import { sampleData, sampleTenantCreated } from "../testing/fixtures.js";
import { createTestTopic, deleteTestTopics, kafkaBrokers, waitFor } from "../testing/infra.js";
import { createKafka } from "./create-kafka.js";
import { KafkaEventConsumer } from "./kafka-event-consumer.js";
import { KafkaPublisher } from "./kafka-publisher.js";
import { PlatformaticPublisher } from "./platformatic-publisher.js";

const quiet = { warn: () => {}, error: () => {} };

/** A record as it sits in Kafka, every part as text so two topics' records compare with toEqual. */
interface Raw {
  partition: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
  timestamp: string;
}

/** Lower-case hex, as ids allow (`tnt_[0-9a-z]+`). */
function hex(): string {
  return randomUUID().replaceAll("-", "");
}

function usage(tenantId: string): MaasEvent {
  return createEvent(events.inferenceCompleted, {
    source: "/functions/gateway",
    data: { ...sampleData.inferenceCompleted, tenantId, requestId: `req_${hex()}` },
  });
}

describe("PlatformaticPublisher (real Kafka)", () => {
  let kafka: Kafka;
  const topics: string[] = [];

  beforeAll(() => {
    kafka = createKafka({ brokers: kafkaBrokers(), clientId: "events-platformatic-int-test" });
  });
  afterAll(async () => {
    await deleteTestTopics(kafka, topics);
  });

  async function topic(partitions: number): Promise<string> {
    const t = await createTestTopic(kafka, partitions);
    topics.push(t);
    return t;
  }

  function publisher(t: string, extra: Partial<ConstructorParameters<typeof PlatformaticPublisher>[0]> = {}) {
    return new PlatformaticPublisher({
      brokers: kafkaBrokers(),
      clientId: "events-int-test",
      topic: t,
      ...extra,
    });
  }

  /** Reads `count` records of a topic with a plain kafkajs consumer, keyed by the ce id in them. */
  async function readRaw(t: string, count: number): Promise<Raw[]> {
    const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
    const got: Raw[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: t, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          got.push({
            partition,
            key: message.key === null ? null : message.key.toString(),
            value: message.value?.toString() ?? "",
            headers,
            timestamp: message.timestamp,
          });
        },
      });
      await waitFor(`${count} records on ${t}`, () => got.length >= count);
      // Anything past `count` would be a duplicate: give it a moment to show up.
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await consumer.disconnect();
    }
    return got;
  }

  for (const mode of ["binary", "structured"] as const) {
    it(`writes in ${mode} mode the very records KafkaPublisher writes, on the same partitions, and decodeKafka reads them`, async () => {
      const [ours, theirs] = await Promise.all([topic(12), topic(12)]);
      // 40 tenants on 12 partitions: about half the keys hash negative, where a partitioner that is
      // not Java's would pick another partition.
      const sent: MaasEvent[] = [];
      for (let i = 0; i < 80; i++) {
        const tenant = `tnt_${i % 40}x${hex().slice(0, 8)}`;
        sent.push(i % 2 === 0 ? sampleTenantCreated({ tenantId: tenant }) : usage(tenant));
      }
      const p = publisher(ours, { mode, lingerMs: 20 });
      // Two publishes inside one linger window share one send and both resolve.
      await Promise.all([p.publish(sent.slice(0, 50)), p.publish(sent.slice(50))]);
      await p.close();
      const reference = new KafkaPublisher({ kafka, topic: theirs, mode, lingerMs: 0 });
      await reference.publish(sent);
      await reference.close();

      const [got, want] = await Promise.all([readRaw(ours, sent.length), readRaw(theirs, sent.length)]);
      expect(got).toHaveLength(sent.length);
      const id = (r: Raw) => decodeKafka(r).id;
      const wantById = new Map(want.map((r) => [id(r), r]));
      for (const ev of sent) {
        const record = got.find((r) => id(r) === ev.id);
        expect(record, ev.id).toBeDefined();
        expect(record).toEqual(wantById.get(ev.id));
        expect(decodeKafka(record as Raw).toJSON()).toEqual(ev.toJSON());
        expect(record?.key).toBe(ev.partitionkey);
        expect(record?.timestamp).toBe(String(Date.parse(ev.time as string)));
      }
      // The test means something only if the keys spread over the partitions.
      expect(new Set(got.map((r) => r.partition)).size).toBeGreaterThan(6);
    });
  }

  it("delivers through KafkaEventConsumer with many batches in flight, once each, in publish order per tenant", async () => {
    const t = await topic(12);
    const tenants = Array.from({ length: 24 }, (_, i) => `tnt_order${i}`);
    const sent = Array.from({ length: 2_400 }, (_, i) => usage(tenants[i % tenants.length] as string));
    const p = publisher(t, { maxBatchSize: 200, lingerMs: 2 });
    await p.connect();
    // Six concurrent publishes of 400: twelve sends of 200 in flight on one idempotent producer.
    await Promise.all(Array.from({ length: 6 }, (_, k) => p.publish(sent.slice(k * 400, (k + 1) * 400))));
    await p.close();

    const got: { id: string; tenant: string }[] = [];
    const consumer = new KafkaEventConsumer({
      kafka,
      groupId: `test-${randomUUID()}`,
      topics: [t],
      fromBeginning: true,
      logger: quiet,
      handler: async (event) => void got.push({ id: event.id, tenant: String(event.tenantid) }),
    });
    await consumer.start();
    try {
      await waitFor("2,400 events", () => got.length >= sent.length, 60_000);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await consumer.stop();
    }
    expect(got).toHaveLength(sent.length);
    expect(new Set(got.map((g) => g.id)).size).toBe(sent.length);
    for (const tenant of tenants) {
      const published = sent.filter((e) => e.tenantid === tenant).map((e) => e.id);
      const consumed = got.filter((g) => g.tenant === tenant).map((g) => g.id);
      expect(consumed).toEqual(published);
    }
  });

  it("close() sends what is still lingering, resolves its publish, and refuses publishes after", async () => {
    const t = await topic(1);
    const p = publisher(t, { lingerMs: 60_000 });
    const ev = sampleTenantCreated();
    let settled = false;
    const published = p.publish([ev]).then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    await p.close();
    expect(settled).toBe(true);
    await published;
    const [record] = await readRaw(t, 1);
    expect(decodeKafka(record as Raw).id).toBe(ev.id);
    await expect(p.publish([sampleTenantCreated()])).rejects.toThrow("closed");
  });

  it("rejects a publish and connect() when no broker is reachable, within a bounded time", async () => {
    // Port 1 refuses connections: with 2 retries the producer gives up after its backoff (~1 s).
    const p = new PlatformaticPublisher({
      brokers: "127.0.0.1:1",
      clientId: "events-int-test",
      topic: "never",
      lingerMs: 0,
      retries: 2,
    });
    const t0 = Date.now();
    await expect(p.publish([sampleTenantCreated()])).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(15_000);
    await expect(p.connect()).rejects.toThrow();
    await p.close();
  });

  it("refuses an empty broker list", () => {
    expect(() => new PlatformaticPublisher({ brokers: " , ", clientId: "x" })).toThrow("no brokers");
  });
});
