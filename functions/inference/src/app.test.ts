import { createEvent, events } from "@maas/events";
import { captureLogger, itBehavesLikeAFunction, postEvent as post } from "@maas/runtime/testing";
import { describe, expect, it } from "vitest";
import { createInference } from "./app.js";

function setup() {
  const { logger, lines } = captureLogger();
  return { fn: createInference({ logger }), lines };
}

describe("inference", () => {
  itBehavesLikeAFunction("inference", () => setup().fn);

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
