import { createDb, type DbHandle, migrateToLatest, withSystem } from "@maas/db";
import { createEvent, events, knativePing } from "@maas/events";
import {
  MemorySpendSink,
  PostgresUsageStore,
  seedUsageTenant,
  UsageIngestor,
  usageEvent,
} from "@maas/fn-metering/usage";
import { captureLogger, itBehavesLikeAFunction, postEvent as post } from "@maas/runtime/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBilling } from "./app.js";

let handle: DbHandle;
const now = new Date("2026-02-02T02:00:00Z");
beforeAll(async () => {
  handle = createDb({});
  await migrateToLatest(handle.db);
}, 60_000);
afterAll(async () => handle?.close());

function setup() {
  const { logger, lines } = captureLogger();
  const spend = new MemorySpendSink();
  return { fn: createBilling({ logger, db: handle.db, spend, clock: () => now }), lines, spend };
}

const ping = (data: unknown) =>
  createEvent(knativePing, { source: "/apis/v1/namespaces/maas/pingsources/billing", data: data as never });

describe("billing", () => {
  itBehavesLikeAFunction("billing", () => setup().fn);

  it("closes last month into one invoice per tenant on close-period, and a rerun changes nothing", async () => {
    const { fn, lines } = setup();
    const t = await seedUsageTenant(handle.db);
    const ingestor = new UsageIngestor({
      store: new PostgresUsageStore(handle.db),
      spend: new MemorySpendSink(),
      clock: () => now,
    });
    await ingestor.ingest([
      usageEvent(t, { startedAt: "2026-01-05T10:00:00Z", durationMs: 12 }),
      usageEvent(t, { startedAt: "2026-01-20T10:00:00Z", durationMs: 30 }),
      usageEvent(t, { startedAt: "2026-02-01T10:00:00Z", durationMs: 30 }), // open period: not invoiced
    ]);
    for (let i = 0; i < 2; i++) expect((await post(fn, ping({ job: "close-period" }))).status).toBe(202);
    const invoices = await withSystem(handle.db, (trx) =>
      trx.selectFrom("invoices").selectAll().where("tenant_id", "=", t.tenantId).execute(),
    );
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({
      period: "2026-01",
      total_micros: 520n,
      requests: 2n,
      currency: "EUR",
    });
    const outbox = await withSystem(handle.db, (trx) =>
      trx.selectFrom("outbox").select("event").where("tenant_id", "=", t.tenantId).execute(),
    );
    expect(outbox.map((o) => o.event.type)).toEqual([events.invoiceIssued.type]);
    expect(lines.filter((l) => l.msg === "period close done").map((l) => l.invoices)).toEqual([1, 0]);
  });

  it("daily-rollup copies month-to-date totals into the spend counters", async () => {
    const { fn, spend } = setup();
    const t = await seedUsageTenant(handle.db);
    const ingestor = new UsageIngestor({
      store: new PostgresUsageStore(handle.db),
      spend: new MemorySpendSink(),
      clock: () => now,
    });
    await ingestor.ingest([usageEvent(t, { startedAt: "2026-02-01T10:00:00Z", durationMs: 12 })]);
    expect((await post(fn, ping({ job: "daily-rollup" }))).status).toBe(202);
    expect(spend.get(t.tenantId, "2026-02")).toBe(170n);
  });

  it("refuses an unknown job for good (422: never retried)", async () => {
    const { fn } = setup();
    expect((await post(fn, ping({ job: "daily" }))).status).toBe(422);
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
