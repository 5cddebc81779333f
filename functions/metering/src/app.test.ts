import { createDb, type DbHandle, migrateToLatest, withSystem } from "@maas/db";
import { createEvent, encodeHttpBinary, events, type MaasEvent } from "@maas/events";
import type { MaasFunction } from "@maas/runtime";
import { captureLogger } from "@maas/runtime/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetering } from "./app.js";
import { MemorySpendSink } from "./usage/spend-sink.js";
import { seedUsageTenant, usageEvent } from "./usage/testing.js";
import { UsageIngestor } from "./usage/usage-ingestor.js";
import { PostgresUsageStore } from "./usage/usage-store.js";

let handle: DbHandle;
beforeAll(async () => {
  handle = createDb({});
  await migrateToLatest(handle.db);
}, 60_000);
afterAll(async () => handle?.close());

function setup() {
  const { logger, lines } = captureLogger();
  const spend = new MemorySpendSink();
  const ingestor = new UsageIngestor({ store: new PostgresUsageStore(handle.db), spend });
  return { fn: createMetering({ logger, ingestor }), lines, spend };
}

function post(fn: MaasFunction, event: MaasEvent) {
  const m = encodeHttpBinary(event);
  return fn.app.request("/", { method: "POST", headers: m.headers, body: m.body });
}

describe("metering", () => {
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
      'http_requests_total{function="metering",method="GET",route="/healthz",status="200"} 1',
    );
  });

  it("answers unknown routes with the one error body", async () => {
    const { fn } = setup();
    const res = await fn.app.request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it("meters an inference.completed delivered over HTTP once, however often it is redelivered", async () => {
    const { fn, lines, spend } = setup();
    const t = await seedUsageTenant(handle.db);
    const event = usageEvent(t, { durationMs: 12 });
    for (let i = 0; i < 3; i++) expect((await post(fn, event)).status).toBe(202);
    const received = lines.filter((l) => l.msg === "inference.completed received");
    expect(received.map((l) => l.inserted)).toEqual([1, 0, 0]);
    const rows = await withSystem(handle.db, (trx) =>
      trx.selectFrom("usage_events").select("event_id").where("tenant_id", "=", t.tenantId).execute(),
    );
    expect(rows).toEqual([{ event_id: event.id }]);
    expect([...spend.totals.values()]).toEqual([170n]);
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
