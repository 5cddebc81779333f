import { createEvent, encodeHttpBinary, events, knativePing, type MaasEvent } from "@maas/events";
import type { MaasFunction } from "@maas/runtime";
import { captureLogger } from "@maas/runtime/testing";
import { describe, expect, it } from "vitest";
import { createBilling } from "./app.js";

function setup() {
  const { logger, lines } = captureLogger();
  return { fn: createBilling({ logger }), lines };
}

function post(fn: MaasFunction, event: MaasEvent) {
  const m = encodeHttpBinary(event);
  return fn.app.request("/", { method: "POST", headers: m.headers, body: m.body });
}

describe("billing", () => {
  it("is live at once and ready only when told", async () => {
    const { fn } = setup();
    expect((await fn.app.request("/healthz")).status).toBe(200);
    expect((await fn.app.request("/readyz")).status).toBe(503);
    fn.setReady(true);
    expect((await fn.app.request("/readyz")).status).toBe(200);
  });

  it("exposes its metrics, labelled with its name", async () => {
    const { fn } = setup();
    await fn.app.request("/healthz");
    const text = await (await fn.app.request("/metrics")).text();
    expect(text).toContain(
      'http_requests_total{function="billing",method="GET",route="/healthz",status="200"} 1',
    );
  });

  it("answers unknown routes with the one error body", async () => {
    const { fn } = setup();
    const res = await fn.app.request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it.each([
    ["dev.knative.sources.ping", () => createEvent(knativePing, { source: "/test", data: { job: "daily" } })],
  ] as const)("accepts %s with 202 and logs it", async (short, make) => {
    const { fn, lines } = setup();
    const event = make();
    const res = await post(fn, event);
    expect(res.status).toBe(202);
    expect(lines.find((l) => l.msg === `${short} received`)).toMatchObject({
      eventId: event.id,
      level: "info",
    });
  });

  it("answers an event type it does not handle with 400, never 404", async () => {
    const { fn } = setup();
    const res = await post(
      fn,
      createEvent(events.deploymentDeleted, {
        source: "/test",
        data: { tenantId: "tnt_acme", deploymentId: "dep_1" },
      }),
    );
    expect(res.status).toBe(400);
  });
});
