import { createDb, type DbHandle, migrateToLatest, withSystem } from "@maas/db";
import { createEvent, events } from "@maas/events";
import { captureLogger, itBehavesLikeAFunction, postEvent as post } from "@maas/runtime/testing";
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

describe("metering", () => {
  itBehavesLikeAFunction("metering", () => setup().fn);

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
