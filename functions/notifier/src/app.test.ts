import { createEvent, encodeHttpBinary, events, type MaasEvent } from "@maas/events";
import type { MaasFunction } from "@maas/runtime";
import { captureLogger } from "@maas/runtime/testing";
import { describe, expect, it } from "vitest";
import { createNotifier } from "./app.js";

function setup() {
  const { logger, lines } = captureLogger();
  return { fn: createNotifier({ logger }), lines };
}

function post(fn: MaasFunction, event: MaasEvent) {
  const m = encodeHttpBinary(event);
  return fn.app.request("/", { method: "POST", headers: m.headers, body: m.body });
}

describe("notifier", () => {
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
      'http_requests_total{function="notifier",method="GET",route="/healthz",status="200"} 1',
    );
  });

  it("answers unknown routes with the one error body", async () => {
    const { fn } = setup();
    const res = await fn.app.request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it.each([
    [
      "quota.threshold.crossed",
      () =>
        createEvent(events.quotaThresholdCrossed, {
          source: "/test",
          data: {
            tenantId: "tnt_acme",
            quota: "budget",
            thresholdPercent: 80,
            used: 80_000_000,
            limit: 100_000_000,
            unit: "micros",
            period: "2026-01",
          },
        }),
    ],
    [
      "invoice.issued",
      () =>
        createEvent(events.invoiceIssued, {
          source: "/test",
          data: {
            tenantId: "tnt_acme",
            invoiceId: "inv_1",
            periodStart: "2026-01-01T00:00:00.000Z",
            periodEnd: "2026-02-01T00:00:00.000Z",
            currency: "EUR",
            totalMicros: 0,
            lines: [],
          },
        }),
    ],
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
