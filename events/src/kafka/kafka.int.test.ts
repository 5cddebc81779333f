import { randomUUID } from "node:crypto";
import type { Kafka, KafkaMessage } from "kafkajs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { events } from "../catalog/events.js";
import { createEvent } from "../event/create-event.js";
import type { MaasEvent } from "../event/maas-event.js";
import { sampleData, sampleTenantCreated } from "../testing/fixtures.js";
import {
  committedOffset,
  createTestTopic,
  deleteTestTopics,
  kafkaBrokers,
  waitFor,
} from "../testing/infra.js";
import { createKafka } from "./create-kafka.js";
import { KafkaEventConsumer, type KafkaEventConsumerOptions } from "./kafka-event-consumer.js";
import { KafkaPublisher } from "./kafka-publisher.js";

const quiet = { warn: () => {}, error: () => {} };

describe("Kafka transport (real Kafka)", () => {
  let kafka: Kafka;
  const topics: string[] = [];
  const running: { stop(): Promise<void> }[] = [];

  beforeAll(() => {
    kafka = createKafka({ brokers: kafkaBrokers(), clientId: "events-int-test" });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
  });
  afterAll(async () => {
    await deleteTestTopics(kafka, topics);
  });

  async function topic(partitions = 1): Promise<string> {
    const t = await createTestTopic(kafka, partitions);
    topics.push(t);
    return t;
  }

  function consumer(opts: Omit<KafkaEventConsumerOptions, "kafka" | "groupId"> & { groupId?: string }) {
    const c = new KafkaEventConsumer({
      kafka,
      groupId: opts.groupId ?? `test-${randomUUID()}`,
      fromBeginning: true,
      logger: quiet,
      ...opts,
    });
    running.push(c);
    return c;
  }

  for (const mode of ["binary", "structured"] as const) {
    it(`publishes and consumes in ${mode} mode, keyed by tenant, two publishes in one linger batch`, async () => {
      const t = await topic(3);
      const publisher = new KafkaPublisher({ kafka, topic: t, mode, lingerMs: 20 });
      const sent: MaasEvent[] = [
        sampleTenantCreated({ tenantId: "tnt_a" }),
        sampleTenantCreated({ tenantId: "tnt_b" }),
        createEvent(events.inferenceCompleted, {
          source: "/functions/gateway",
          data: sampleData.inferenceCompleted,
        }),
      ];
      // Two publishes inside one linger window share one send.
      await Promise.all([publisher.publish(sent.slice(0, 2)), publisher.publish(sent.slice(2))]);
      await publisher.close();

      const got: { event: MaasEvent; partition: number }[] = [];
      await consumer({
        topics: [t],
        handler: async (event, meta) => void got.push({ event, partition: meta.partition }),
      }).start();
      await waitFor("3 events", () => got.length >= 3);
      const byId = new Map(got.map((g) => [g.event.id, g]));
      for (const ev of sent) expect(byId.get(ev.id)?.event.toJSON()).toEqual(ev.toJSON());
      // partitionkey = tenant: both events of tnt_acme land on one partition.
      const acme = got.filter((g) => g.event.tenantid === "tnt_acme");
      expect(new Set(acme.map((g) => g.partition)).size).toBe(1);
    });
  }

  it("accepts records from a plain producer (kcat-style binary headers, structured JSON) and skips poison", async () => {
    const t = await topic(1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: t,
      messages: [
        {
          key: null,
          value: JSON.stringify(sampleData.tenantCreated),
          headers: {
            ce_id: "evt_plain_1",
            ce_specversion: "1.0",
            ce_type: "io.maas.tenant.created.v1",
            ce_source: "kcat",
          },
        },
        { key: "k", value: "not an event at all" },
        {
          key: "tnt_acme",
          value: JSON.stringify({
            specversion: "1.0",
            id: "evt_plain_2",
            source: "other",
            type: "io.maas.inference.completed.v1",
            data: sampleData.inferenceCompleted,
          }),
          headers: { "content-type": "application/cloudevents+json" },
        },
      ],
    });
    await producer.disconnect();

    const got: MaasEvent[] = [];
    const invalid: KafkaMessage[] = [];
    await consumer({
      topics: [t],
      handler: async (event) => void got.push(event),
      onInvalid: async (record) => void invalid.push(record),
    }).start();
    await waitFor("2 events", () => got.length >= 2);
    expect(got.map((e) => e.id)).toEqual(["evt_plain_1", "evt_plain_2"]);
    expect(got[0]?.partitionkey).toBe("tnt_acme");
    expect(invalid.map((r) => r.value?.toString())).toEqual(["not an event at all"]);
  });

  it("does not commit past a failing handler and redelivers the record, in order", async () => {
    const t = await topic(1);
    const groupId = `test-${randomUUID()}`;
    const a = sampleTenantCreated({ id: "evt_fail_a" });
    const b = sampleTenantCreated({ id: "evt_fail_b" });
    const publisher = new KafkaPublisher({ kafka, topic: t, lingerMs: 0 });
    await publisher.publish([a, b]);
    await publisher.close();

    const seen: string[] = [];
    let failuresLeft = 3;
    let release = false;
    await consumer({
      groupId,
      topics: [t],
      retryBackoff: { initialMs: 50, maxMs: 200 },
      commitIntervalMs: 0,
      handler: async (event) => {
        seen.push(event.id);
        if (event.id === a.id && (failuresLeft > 0 || !release)) {
          failuresLeft--;
          throw new Error("handler down");
        }
      },
    }).start();
    await waitFor("3 failed attempts", () => failuresLeft <= 0);
    // While `a` fails, `b` (after it on the partition) is never handled and nothing is committed.
    expect(seen.every((id) => id === a.id)).toBe(true);
    // Seeking back commits the failed record itself ("read from here"), never a later offset.
    expect(["-1", "0"]).toContain(await committedOffset(kafka, groupId, t));
    release = true;
    await waitFor("b handled", () => seen.includes(b.id));
    await waitFor("offsets committed", async () => (await committedOffset(kafka, groupId, t)) === "2");
    expect(seen.filter((id) => id === a.id).length).toBeGreaterThanOrEqual(4);
    expect(seen.indexOf(b.id)).toBeGreaterThan(seen.lastIndexOf(a.id));
  });

  it("redelivers to another member when a consumer dies before committing", async () => {
    const t = await topic(1);
    const groupId = `test-${randomUUID()}`;
    const ev = sampleTenantCreated({ id: "evt_killed" });
    const publisher = new KafkaPublisher({ kafka, topic: t, lingerMs: 0 });
    await publisher.publish([ev]);
    await publisher.close();

    // Member A takes the record and then hangs: no result, no heartbeat, no commit, like a killed pod.
    let unblockA: (() => void) | undefined;
    const gotA: string[] = [];
    const a = new KafkaEventConsumer({
      kafka,
      groupId,
      topics: [t],
      fromBeginning: true,
      sessionTimeoutMs: 6_000,
      logger: quiet,
      handler: (event) => {
        gotA.push(event.id);
        return new Promise<void>((_resolve, reject) => {
          unblockA = () => reject(new Error("A was killed"));
        });
      },
    });
    await a.start();
    await waitFor("A received", () => gotA.length === 1);

    const gotB: string[] = [];
    await consumer({
      groupId,
      topics: [t],
      sessionTimeoutMs: 6_000,
      handler: async (e) => void gotB.push(e.id),
    }).start();
    await waitFor("B received the same event", () => gotB.length === 1, 60_000);
    expect(gotB).toEqual([ev.id]);
    await waitFor("B committed", async () => (await committedOffset(kafka, groupId, t)) === "1");
    unblockA?.();
    await a.stop();
  });
});
