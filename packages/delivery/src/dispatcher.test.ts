import { createEvent, decodeHttp, events, type MaasEvent } from "@maas/events";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningIngress, startBrokerIngress } from "./broker-ingress.js";
import type { DeliveryOutcome } from "./deliver-with-retry.js";
import { parseDeliverySpec } from "./delivery-spec.js";
import { Dispatcher } from "./dispatcher.js";
import { EmbeddedEventLog } from "./embedded-event-log.js";
import { type FakeSubscriber, startFakeSubscriber } from "./testing/fake-subscriber.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function tenantCreated(tenant: string): MaasEvent {
  return createEvent(events.tenantCreated, {
    source: "/functions/control",
    data: { tenantId: tenant, slug: "acme", name: "Acme", plan: "free" },
  });
}

async function setup(replies: Parameters<typeof startFakeSubscriber>[0], fallback?: { status: number }) {
  const log = new EmbeddedEventLog({ partitions: 2 });
  const sub: FakeSubscriber = await startFakeSubscriber(replies, fallback);
  const ingress: RunningIngress = await startBrokerIngress({
    log,
    routes: [
      { path: "/maas/default", topicFor: () => "maas.events" },
      { path: "/maas/dlq", topicFor: () => "maas.dlq" },
    ],
  });
  closers.push(
    () => sub.close(),
    () => ingress.close(),
    () => log.close(),
  );
  const outcomes: DeliveryOutcome[] = [];
  const waits: number[] = [];
  const dispatcher = new Dispatcher({
    name: "trigger/deployer-tenant-created",
    log,
    topic: "maas.events",
    groupId: "trigger-deployer",
    subscriberUrl: sub.url,
    deadLetterUrl: `${ingress.url}/maas/dlq`,
    policy: parseDeliverySpec({ retry: 2, backoffPolicy: "exponential", backoffDelay: "PT0.05S" }),
    filter: { filter: { attributes: { type: "io.maas.tenant.created.v1" } } },
    onOutcome: (_ev, outcome) => void outcomes.push(outcome),
    deliver: { sleep: async (ms) => void waits.push(ms) },
  });
  await dispatcher.start();
  closers.push(() => dispatcher.stop());
  return { log, sub, ingress, dispatcher, outcomes, waits };
}

async function publish(ingressUrl: string, event: MaasEvent): Promise<number> {
  const { encodeHttpBinary } = await import("@maas/events");
  const { headers, body } = encodeHttpBinary(event);
  const res = await fetch(`${ingressUrl}/maas/default`, { method: "POST", headers, body });
  return res.status;
}

describe("Dispatcher over the embedded log", () => {
  it("delivers a matching event once, skips non-matching ones, and commits both", async () => {
    const { log, sub, ingress, dispatcher, outcomes } = await setup([]);
    const wanted = tenantCreated("tnt_a");
    const other = createEvent(events.deploymentDeleted, {
      source: "/functions/control",
      data: { tenantId: "tnt_a", deploymentId: "dep_1" },
    });
    expect(await publish(ingress.url, other)).toBe(202);
    expect(await publish(ingress.url, wanted)).toBe(202);
    await until(() => dispatcher.stats.filtered === 1 && dispatcher.stats.delivered === 1);
    expect(sub.received).toHaveLength(1);
    expect(sub.received[0]!.headers["ce-id"]).toBe(wanted.id);
    expect(decodeHttp(sub.received[0]!.headers, sub.received[0]!.body).data).toEqual(wanted.data);
    expect(outcomes).toEqual([{ result: "delivered", attempts: 1, status: 200 }]);
    await until(() => log.committed("maas.events", "trigger-deployer").reduce((a, b) => a + b, 0) === 2);
  });

  it("commits only after the subscriber answered", async () => {
    const { log, sub, ingress } = await setup([]);
    sub.hold();
    await publish(ingress.url, tenantCreated("tnt_b"));
    await sub.waitFor(1);
    const committed = () => log.committed("maas.events", "trigger-deployer").reduce((a, b) => a + b, 0);
    expect(committed()).toBe(0);
    sub.release();
    await until(() => committed() === 1);
  });

  it("retries per the delivery spec, then dead-letters into the dlq topic", async () => {
    const { log, sub, ingress, dispatcher, waits } = await setup([], { status: 500 });
    const ev = tenantCreated("tnt_c");
    await publish(ingress.url, ev);
    await until(() => dispatcher.stats.deadLettered === 1);
    expect(sub.received).toHaveLength(3);
    expect(waits).toEqual([100, 200]);
    const dead = log.records("maas.dlq");
    expect(dead).toHaveLength(1);
    expect(dead[0]!.id).toBe(ev.id);
    expect(dead[0]!.knativeerrorcode).toBe("500");
    expect(dead[0]!.knativeerrordest).toBe(sub.url);
  });
});
