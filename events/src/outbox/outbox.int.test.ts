import { randomUUID } from "node:crypto";
import {
  createDb,
  createFreshDatabase,
  type DbHandle,
  type FreshDatabase,
  migrateToLatest,
  withSystem,
  withTenant,
} from "@maas/db";
import type { Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MaasEvent } from "../event/maas-event.js";
import { createKafka } from "../kafka/create-kafka.js";
import { KafkaEventConsumer } from "../kafka/kafka-event-consumer.js";
import { KafkaPublisher } from "../kafka/kafka-publisher.js";
import type { EventPublisher } from "../publish/publisher.js";
import { sampleTenantCreated } from "../testing/fixtures.js";
import { createTestTopic, databaseUrl, deleteTestTopics, kafkaBrokers, waitFor } from "../testing/infra.js";
import { OutboxRelay } from "./outbox-relay.js";
import { writeOutbox } from "./write-outbox.js";

const quiet = { warn: () => {}, error: () => {} };

describe("outbox relay (real Postgres + Kafka)", () => {
  let fresh: FreshDatabase;
  let handle: DbHandle;
  let kafka: Kafka;
  let topic: string;
  let live: KafkaPublisher;
  let consumer: KafkaEventConsumer;
  /** Every record the consumer saw, and the deduplicated set a consumer acts on. */
  const received: string[] = [];
  const handled = new Set<string>();

  beforeAll(async () => {
    fresh = await createFreshDatabase(databaseUrl(), { prefix: "maas_events_test" });
    handle = createDb({ url: fresh.url });
    await migrateToLatest(handle.db);
    await withSystem(handle.db, (trx) =>
      trx.insertInto("tenants").values({ id: "tnt_acme", slug: "acme", name: "Acme" }).execute(),
    );
    kafka = createKafka({ brokers: kafkaBrokers(), clientId: "outbox-int-test" });
    topic = await createTestTopic(kafka, 1);
    live = new KafkaPublisher({ kafka, topic, lingerMs: 0 });
    consumer = new KafkaEventConsumer({
      kafka,
      groupId: `test-${randomUUID()}`,
      topics: [topic],
      fromBeginning: true,
      logger: quiet,
      handler: async (event) => {
        received.push(event.id);
        handled.add(event.id); // idempotent consumer: a redelivered id changes nothing
      },
    });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer?.stop();
    await live?.close();
    await handle?.close();
    await fresh?.drop();
    if (topic) await deleteTestTopics(kafka, [topic]);
  });

  async function changeWithEvent(ev: MaasEvent): Promise<void> {
    await withTenant(handle.db, "tnt_acme", async (trx) => {
      await trx
        .insertInto("audit_log")
        .values({ tenant_id: "tnt_acme", actor: "test", action: ev.type })
        .execute();
      await writeOutbox(trx, [ev]);
    });
  }

  async function isPublished(id: string): Promise<boolean> {
    const row = await withSystem(handle.db, (trx) =>
      trx.selectFrom("outbox").select("published_at").where("event_id", "=", id).executeTakeFirstOrThrow(),
    );
    return row.published_at !== null;
  }

  it("relays a committed state change's event to Kafka", async () => {
    const ev = sampleTenantCreated();
    await changeWithEvent(ev);
    const relay = new OutboxRelay({ db: handle.db, publisher: live, logger: quiet });
    expect(await relay.relayOnce()).toBe(1);
    expect(await isPublished(ev.id)).toBe(true);
    await waitFor("consumed", () => handled.has(ev.id));
  });

  it("republishes after the relay dies between publish and mark; the consumer dedupes by id", async () => {
    const ev = sampleTenantCreated();
    await changeWithEvent(ev);
    // Publishes for real, then dies before the mark commits (the transaction rolls back, as on a crash).
    const dying: EventPublisher = {
      async publish(events) {
        await live.publish(events);
        throw new Error("relay killed after publish");
      },
    };
    await expect(
      new OutboxRelay({ db: handle.db, publisher: dying, logger: quiet }).relayOnce(),
    ).rejects.toThrow("killed");
    expect(await isPublished(ev.id)).toBe(false);
    // A new relay process picks the row up again.
    expect(await new OutboxRelay({ db: handle.db, publisher: live, logger: quiet }).relayOnce()).toBe(1);
    expect(await isPublished(ev.id)).toBe(true);
    await waitFor("both copies consumed", () => received.filter((id) => id === ev.id).length === 2);
    expect([...handled].filter((id) => id === ev.id)).toHaveLength(1);
  });

  it("keeps rows while Kafka is unreachable, retries with backoff, publishes after recovery", async () => {
    const events = [sampleTenantCreated(), sampleTenantCreated()];
    for (const ev of events) await changeWithEvent(ev);
    // A real producer against a port nothing listens on: the connection error Kafka being down gives.
    const deadKafka = createKafka({
      brokers: "127.0.0.1:1",
      clientId: "dead",
      config: { retry: { retries: 0 }, connectionTimeout: 300 },
      logLevel: 0,
    });
    const dead = new KafkaPublisher({ kafka: deadKafka, topic, lingerMs: 0 });
    let kafkaUp = false;
    const attempts: number[] = [];
    const switching: EventPublisher = {
      publish(evs) {
        attempts.push(Date.now());
        return kafkaUp ? live.publish(evs) : dead.publish(evs);
      },
    };
    const relay = new OutboxRelay({
      db: handle.db,
      publisher: switching,
      pollIntervalMs: 20,
      retryBackoff: { initialMs: 50, maxMs: 2_000 },
      logger: quiet,
    });
    relay.start();
    await waitFor("3 failed rounds", () => relay.failures >= 3, 30_000);
    for (const ev of events) expect(await isPublished(ev.id)).toBe(false);
    kafkaUp = true;
    await waitFor(
      "relayed after recovery",
      async () => (await Promise.all(events.map((e) => isPublished(e.id)))).every(Boolean),
      30_000,
    );
    await relay.stop();
    await dead.close().catch(() => undefined);
    await waitFor("consumed", () => events.every((e) => handled.has(e.id)));
    expect(relay.failures).toBe(0);
    // Backoff: the wait before the third attempt is longer than before the second.
    const [t0, t1, t2] = attempts;
    expect((t2 as number) - (t1 as number)).toBeGreaterThan((t1 as number) - (t0 as number));
  });
});
