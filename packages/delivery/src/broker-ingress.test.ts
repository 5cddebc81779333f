import { createEvent, encodeHttpBinary, encodeHttpStructured, events } from "@maas/events";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningIngress, startBrokerIngress } from "./broker-ingress.js";
import { EmbeddedEventLog } from "./embedded-event-log.js";

let ingress: RunningIngress | undefined;
afterEach(async () => {
  await ingress?.close();
  ingress = undefined;
});

describe("broker ingress", () => {
  it("accepts binary and structured events (202) into the route's topic", async () => {
    const log = new EmbeddedEventLog();
    ingress = await startBrokerIngress({
      log,
      routes: [{ path: "/maas/default", topicFor: () => "maas.events" }],
    });
    const ev = createEvent(events.tenantCreated, {
      source: "/test",
      data: { tenantId: "tnt_a", slug: "a", name: "A", plan: "free" },
    });
    for (const { headers, body } of [encodeHttpBinary(ev), encodeHttpStructured(ev)]) {
      const res = await fetch(`${ingress.url}/maas/default`, { method: "POST", headers, body });
      expect(res.status).toBe(202);
    }
    expect(log.records("maas.events").map((e) => e.id)).toEqual([ev.id, ev.id]);
  });

  it("answers 400 for invalid events, 404 for unknown paths, 405 for other methods", async () => {
    const log = new EmbeddedEventLog();
    ingress = await startBrokerIngress({
      log,
      routes: [{ path: "/maas/default", topicFor: () => "maas.events" }],
    });
    const bad = await fetch(`${ingress.url}/maas/default`, {
      method: "POST",
      headers: {
        "ce-id": "1",
        "ce-type": "io.maas.tenant.created.v1",
        "ce-source": "/x",
        "ce-specversion": "1.0",
      },
      body: JSON.stringify({ tenantId: "not-a-tenant" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("INVALID_EVENT");
    const none = await fetch(`${ingress.url}/maas/default`, { method: "POST", body: "hello" });
    expect(none.status).toBe(400);
    expect((await fetch(`${ingress.url}/maas/nope`, { method: "POST", body: "" })).status).toBe(404);
    expect((await fetch(`${ingress.url}/maas/default`)).status).toBe(405);
    expect((await fetch(`${ingress.url}/healthz`)).status).toBe(200);
    expect(log.records("maas.events")).toHaveLength(0);
  });
});
