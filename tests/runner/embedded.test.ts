import type { EmbeddedEventLog } from "@maas/delivery";
import { createEvent, decodeHttp, events } from "@maas/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FixturePlatform,
  recordsFor,
  sleep,
  startFixturePlatform,
  tenantCreated,
  until,
  usageEvent,
} from "./harness.js";

// The runner on embedded defaults only (no DATABASE_URL / KAFKA_BROKERS): PGlite, in-memory log.
let fx: FixturePlatform;
beforeAll(async () => {
  fx = await startFixturePlatform({});
});
afterAll(async () => {
  await fx?.platform.stop();
});

describe("runner, embedded: broker → trigger → function", () => {
  it("starts the fixture Service with embedded backends", () => {
    expect(fx.platform.backends.events).toBe("embedded");
    expect(fx.platform.backends.postgres).toMatch(/embedded/);
    expect(fx.platform.services).toMatchObject([{ name: "recorder", state: "ready" }]);
    expect(fx.platform.brokerUrl).toMatch(/\/test\/default$/);
  });

  it("delivers a published event to its subscriber once, as a binary-mode CloudEvent", async () => {
    const ev = tenantCreated("tnt_embedded1");
    await fx.platform.publish(ev);
    const [got] = await until(
      () => recordsFor(fx.records(), ev.id).length > 0 && recordsFor(fx.records(), ev.id),
      "delivery",
    );
    await sleep(500);
    expect(recordsFor(fx.records(), ev.id)).toHaveLength(1);
    expect(got!.headers["ce-specversion"]).toBe("1.0");
    expect(got!.headers["ce-type"]).toBe(events.tenantCreated.type);
    expect(got!.headers["content-type"]).toMatch(/^application\/json/);
    const received = decodeHttp(got!.headers, got!.body);
    expect(received.data).toEqual(ev.data);
    expect(received.tenantid).toBe("tnt_embedded1");
  });

  it("refuses an invalid event at the broker (400) and filters out types no trigger wants", async () => {
    const bogus = tenantCreated("tnt_embedded2").cloneWith({ type: events.deploymentDeleted.type }, false);
    await expect(fx.platform.publish(bogus as never)).rejects.toThrow(/400/);
    const other = createEvent(events.deploymentDeleted, {
      source: "/tests/runner",
      data: { tenantId: "tnt_embedded2", deploymentId: "dep_2" },
    });
    const trigger = fx.platform.dispatchers.find((d) => d.name === "trigger/recorder-tenant-created")!;
    const filteredBefore = trigger.stats.filtered;
    await fx.platform.publish(other);
    await until(() => trigger.stats.filtered > filteredBefore, "filtering");
    expect(recordsFor(fx.records(), other.id)).toHaveLength(0);
  });

  it("retries a failing handler per the delivery spec, then succeeds", async () => {
    const ev = tenantCreated("tnt_embedded3", 1);
    await fx.platform.publish(ev);
    const got = await until(() => {
      const r = recordsFor(fx.records(), ev.id);
      return r.length >= 2 && r;
    }, "retry");
    expect(got.map((r) => r.status)).toEqual([500, 200]);
  });

  it("dead-letters after retry (2) is exhausted, with Knative's error extensions", async () => {
    const ev = tenantCreated("tnt_embedded4", 10);
    await fx.platform.publish(ev);
    const log = fx.platform.log as EmbeddedEventLog;
    const [dead] = await until(() => {
      const d = log.records(fx.topic("maas.dlq")).filter((e) => e.id === ev.id);
      return d.length > 0 && d;
    }, "dead letter");
    expect(recordsFor(fx.records(), ev.id).map((r) => r.status)).toEqual([500, 500, 500]);
    expect(dead!.knativeerrorcode).toBe("500");
    expect(String(dead!.knativeerrordest)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(Buffer.from(String(dead!.knativeerrordata), "base64").toString()).toBe("failing attempt 3 of 10");
  });

  it("KafkaSource: a record on the usage topic reaches its sink", async () => {
    const ev = usageEvent("tnt_embedded5");
    await fx.platform.log.append(fx.topic("maas.usage"), [ev]);
    const [got] = await until(
      () => recordsFor(fx.records(), ev.id).length > 0 && recordsFor(fx.records(), ev.id),
      "usage",
    );
    expect(got!.headers["ce-type"]).toBe(events.inferenceCompleted.type);
  });

  it("PingSource: a tick is a dev.knative.sources.ping event with the manifest's data", async () => {
    await fx.platform.firePing("recorder-tick");
    const got = await until(
      () => fx.records().find((r) => r.headers["ce-type"] === "dev.knative.sources.ping"),
      "ping",
    );
    expect(got.headers["ce-source"]).toBe("/apis/v1/namespaces/test/pingsources/recorder-tick");
    expect(JSON.parse(got.body)).toEqual({ job: "test-tick" });
  });
});
