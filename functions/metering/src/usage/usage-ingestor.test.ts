import { createDb, type DbHandle, migrateToLatest, newId, withSystem } from "@maas/db";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMeteringMetrics } from "./metering-metrics.js";
import { MemorySpendSink } from "./spend-sink.js";
import { seedUsageTenant, usageEvent } from "./testing.js";
import { UsageIngestor } from "./usage-ingestor.js";
import { PostgresUsageStore } from "./usage-store.js";

// PGlite: the embedded engine runs the very same SQL as the integration test on PostgreSQL.
describe("UsageIngestor (PGlite)", { timeout: 60_000 }, () => {
  let handle: DbHandle;
  const now = new Date("2026-02-10T12:00:00Z");

  beforeAll(async () => {
    handle = createDb({});
    await migrateToLatest(handle.db);
  }, 60_000);
  afterAll(async () => handle?.close());

  const make = () => {
    const spend = new MemorySpendSink();
    const ingestor = new UsageIngestor({ store: new PostgresUsageStore(handle.db), spend, clock: () => now });
    return { spend, ingestor };
  };

  it("prices each event once, stores it once, and rolls up only new rows", async () => {
    const t = await seedUsageTenant(handle.db);
    const { spend, ingestor } = make();
    const a = usageEvent(t, { startedAt: "2026-02-10T11:05:00Z", durationMs: 11.2 });
    const b = usageEvent(t, { startedAt: "2026-02-10T11:55:00Z", durationMs: 30 });
    const first = await ingestor.ingest([a, b, a]);
    expect(first).toMatchObject({ received: 3, inserted: 2, duplicates: 1, late: 0 });
    // default cpu price: 50 per inference + 10 per ms → 12 ms = 170, 30 ms = 350
    expect(spend.get(t.tenantId, "2026-02")).toBe(520n);

    const again = await ingestor.ingest([b, a]);
    expect(again).toMatchObject({ inserted: 0, duplicates: 2 });
    expect(spend.get(t.tenantId, "2026-02")).toBe(520n);

    const hourly = await withSystem(handle.db, (trx) =>
      trx.selectFrom("usage_hourly").selectAll().where("tenant_id", "=", t.tenantId).execute(),
    );
    expect(hourly).toHaveLength(1);
    expect(hourly[0]).toMatchObject({ requests: 2n, items: 2n, compute_ms: 42n, cost_micros: 520n });
    expect(hourly[0]?.hour.toISOString()).toBe("2026-02-10T11:00:00.000Z");
  });

  it("counts inserted and duplicate events, and the billed spend of new rows per tenant", async () => {
    const t = await seedUsageTenant(handle.db);
    const u = await seedUsageTenant(handle.db);
    const registry = new Registry();
    const ingestor = new UsageIngestor({
      store: new PostgresUsageStore(handle.db),
      spend: new MemorySpendSink(),
      clock: () => now,
      metrics: createMeteringMetrics(registry),
    });
    const a = usageEvent(t, { startedAt: "2026-02-10T11:05:00Z", durationMs: 11.2 });
    const b = usageEvent(u, { startedAt: "2026-02-10T11:55:00Z", durationMs: 30 });
    await ingestor.ingest([a, b, a]);
    await ingestor.ingest([b]); // redelivery: counted as a duplicate, adds no spend

    const values = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];
    const events = await values("metering_events_total");
    expect(Object.fromEntries(events.map((v) => [v.labels.outcome, v.value]))).toEqual({
      inserted: 2,
      duplicate: 2,
    });
    // default cpu price: 12 ms → 170, 30 ms → 350 micros
    const spend = await values("metering_spend_micros_total");
    expect(Object.fromEntries(spend.map((v) => [v.labels.tenant, v.value]))).toEqual({
      [t.tenantId]: 170,
      [u.tenantId]: 350,
    });
    // One observation per ingest call, the redelivery included.
    expect(await registry.getSingleMetricAsString("metering_batch_duration_seconds")).toMatch(
      /^metering_batch_duration_seconds_count 2$/m,
    );
  });

  it("the same id from another source is another event (CloudEvents identity is source + id)", async () => {
    const t = await seedUsageTenant(handle.db);
    const { ingestor } = make();
    const id = newId("evt");
    const r = await ingestor.ingest([
      usageEvent(t, { id, source: "/a" }),
      usageEvent(t, { id, source: "/b" }),
    ]);
    expect(r.inserted).toBe(2);
  });

  it("uses the deployment's device and the tenant's override price", async () => {
    const t = await seedUsageTenant(handle.db, { device: "gpu" });
    await withSystem(handle.db, (trx) =>
      trx
        .insertInto("prices")
        .values({
          tenant_id: t.tenantId,
          device: "gpu",
          per_1k_inferences_micros: 1_000_000,
          per_compute_second_micros: 0,
        })
        .execute(),
    );
    const { spend, ingestor } = make();
    await ingestor.ingest([usageEvent(t, { startedAt: "2026-02-10T11:00:00Z", durationMs: 500 })]);
    expect(spend.get(t.tenantId, "2026-02")).toBe(1000n);
    const row = await withSystem(handle.db, (trx) =>
      trx
        .selectFrom("usage_events")
        .select(["device", "cost_micros"])
        .where("tenant_id", "=", t.tenantId)
        .executeTakeFirstOrThrow(),
    );
    expect(row).toEqual({ device: "gpu", cost_micros: 1000n });
  });

  it("places usage of an invoiced month in the open period, flagged late", async () => {
    const t = await seedUsageTenant(handle.db);
    await withSystem(handle.db, (trx) =>
      trx
        .insertInto("invoices")
        .values({
          id: newId("inv"),
          tenant_id: t.tenantId,
          period: "2026-01",
          currency: "EUR",
          requests: 0,
          total_micros: 0,
          period_start: "2026-01-01T00:00:00Z",
          period_end: "2026-02-01T00:00:00Z",
        })
        .execute(),
    );
    const { spend, ingestor } = make();
    const r = await ingestor.ingest([
      usageEvent(t, { startedAt: "2026-01-31T23:59:00Z", durationMs: 12 }),
      usageEvent(t, { startedAt: "2026-02-01T00:01:00Z", durationMs: 12 }),
    ]);
    expect(r).toMatchObject({ inserted: 2, late: 1 });
    const rows = await withSystem(handle.db, (trx) =>
      trx
        .selectFrom("usage_events")
        .select(["period", "late"])
        .where("tenant_id", "=", t.tenantId)
        .orderBy("occurred_at")
        .execute(),
    );
    expect(rows).toEqual([
      { period: "2026-02", late: true },
      { period: "2026-02", late: false },
    ]);
    expect(spend.get(t.tenantId, "2026-01")).toBe(0n);
    expect(spend.get(t.tenantId, "2026-02")).toBe(340n);
  });

  it("reconcile copies the Postgres truth over a drifted counter", async () => {
    const t = await seedUsageTenant(handle.db);
    const { spend, ingestor } = make();
    await ingestor.ingest([usageEvent(t, { startedAt: "2026-02-03T00:00:00Z", durationMs: 12 })]);
    await spend.add(t.tenantId, "2026-02", 999n); // a double count, say
    await ingestor.reconcile("2026-02");
    expect(spend.get(t.tenantId, "2026-02")).toBe(170n);
  });

  it("a failing spend counter does not fail the batch (reconcile repairs it)", async () => {
    const t = await seedUsageTenant(handle.db);
    const errors: string[] = [];
    const ingestor = new UsageIngestor({
      store: new PostgresUsageStore(handle.db),
      spend: {
        add: async () => {
          throw new Error("redis down");
        },
        reconcile: async () => {},
      },
      clock: () => now,
      logger: { info: () => {}, warn: () => {}, error: (_o, msg) => errors.push(msg) },
    });
    const r = await ingestor.ingest([usageEvent(t)]);
    expect(r.inserted).toBe(1);
    expect(errors).toEqual(["spend counter not advanced; the next reconcile repairs it"]);
  });
});
