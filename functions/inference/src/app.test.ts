import { createEvent, encodeHttpBinary, events, type MaasEvent } from "@maas/events";
import type { MaasFunction } from "@maas/runtime";
import { captureLogger } from "@maas/runtime/testing";
import { describe, expect, it } from "vitest";
import { createInference } from "./app.js";

function setup() {
  const { logger, lines } = captureLogger();
  return { fn: createInference({ logger }), lines };
}

function post(fn: MaasFunction, event: MaasEvent) {
  const m = encodeHttpBinary(event);
  return fn.app.request("/", { method: "POST", headers: m.headers, body: m.body });
}

describe("inference", () => {
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
      'http_requests_total{function="inference",method="GET",route="/healthz",status="200"} 1',
    );
  });

  it("answers unknown routes with the one error body", async () => {
    const { fn } = setup();
    const res = await fn.app.request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it("serves v2 server liveness always and readiness only when ready (status code + KServe's JSON body)", async () => {
    const { fn } = setup();
    const live = await fn.app.request("/v2/health/live");
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ live: true });
    const notReady = await fn.app.request("/v2/health/ready");
    expect(notReady.status).toBe(400);
    expect(await notReady.json()).toEqual({ ready: false });
    fn.setReady(true);
    const ready = await fn.app.request("/v2/health/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
  });

  it("handles no events: an event gets 400 (not retried), never 404", async () => {
    const { fn } = setup();
    const res = await post(
      fn,
      createEvent(events.tenantCreated, {
        source: "/test",
        data: { tenantId: "tnt_acme", slug: "acme", name: "Acme Inc", plan: "free" },
      }),
    );
    expect(res.status).toBe(400);
  });
});
