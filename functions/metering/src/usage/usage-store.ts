import { type Database, type Device, withSystem } from "@maas/db";
import { type Kysely, sql } from "kysely";
import { periodLockKey } from "./period.js";
import type { PriceRow } from "./prices.js";

/** One usage row ready to insert: cost already computed, period the event's own month. */
export interface UsageRow {
  source: string;
  eventId: string;
  tenantId: string;
  modelId: string;
  versionId: string;
  deploymentId: string;
  requestId: string;
  occurredAt: Date;
  items: number;
  computeMs: number;
  costMicros: bigint;
  device: Device;
  status: "ok" | "error";
  /** `YYYY-MM` of `occurredAt`; replaced by the open period when that month is already invoiced. */
  period: string;
}

/** What one batch newly added, per tenant and period (duplicates add nothing). */
export interface InsertedTotal {
  tenantId: string;
  period: string;
  events: number;
  costMicros: bigint;
  /** Rows of this group placed in the open period because their month was already closed. */
  late: number;
}

/** Where metering keeps usage: Postgres in every mode (PGlite embedded), never mocked in tests. */
export interface UsageStore {
  /**
   * Inserts a batch in ONE transaction: rows keyed by (source, event_id) with ON CONFLICT DO NOTHING,
   * then the hourly rollup of exactly the rows inserted. Returns what was new.
   */
  insertBatch(rows: readonly UsageRow[], openPeriod: string): Promise<InsertedTotal[]>;
  /** Month-to-date spend of every tenant with usage in `period` (the truth the Redis counters copy). */
  periodTotals(period: string): Promise<Map<string, bigint>>;
  prices(): Promise<PriceRow[]>;
  deploymentDevices(ids: readonly string[]): Promise<Map<string, Device>>;
  tenantPlans(ids: readonly string[]): Promise<Map<string, string>>;
}

/**
 * The Postgres usage store. A batch costs five round trips whatever its size (BEGIN, role, period
 * locks, the insert+rollup statement, COMMIT): rows travel as one array per column through
 * `unnest`, so there is no per-event round trip and no bind-parameter limit.
 *
 * @example
 * const store = new PostgresUsageStore(db);
 * const totals = await store.insertBatch(rows, "2026-02");
 */
export class PostgresUsageStore implements UsageStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insertBatch(rows: readonly UsageRow[], openPeriod: string): Promise<InsertedTotal[]> {
    if (rows.length === 0) return [];
    // Sorted: concurrent batches (other partitions, another replica after a rebalance) take row and
    // lock in the same order, so they wait for each other instead of deadlocking.
    const sorted = [...rows].sort((a, b) =>
      a.source === b.source ? cmp(a.eventId, b.eventId) : cmp(a.source, b.source),
    );
    const lockKeys = [...new Set(sorted.map((r) => periodLockKey(r.tenantId, r.period)))].sort();
    const col = <T>(f: (r: UsageRow) => T) => sorted.map(f);
    return withSystem(this.db, async (trx) => {
      await sql`select pg_advisory_xact_lock_shared(hashtextextended(k, 0))
        from unnest(${lockKeys}::text[]) as k order by k`.execute(trx);
      const { rows: out } = await sql<{
        tenant_id: string;
        period: string;
        events: bigint;
        cost: bigint;
        late: bigint;
      }>`
        with input as (
          select * from unnest(
            ${col((r) => r.source)}::text[], ${col((r) => r.eventId)}::text[], ${col((r) => r.tenantId)}::text[],
            ${col((r) => r.modelId)}::text[], ${col((r) => r.versionId)}::text[], ${col((r) => r.deploymentId)}::text[],
            ${col((r) => r.requestId)}::text[], ${col((r) => r.occurredAt.toISOString())}::timestamptz[],
            ${col((r) => r.items)}::int4[], ${col((r) => String(r.computeMs))}::int8[],
            ${col((r) => r.costMicros.toString())}::int8[], ${col((r) => r.device)}::text[],
            ${col((r) => r.status)}::text[], ${col((r) => r.period)}::text[]
          ) with ordinality as t(source, event_id, tenant_id, model_id, version_id, deployment_id, request_id,
                                 occurred_at, items, compute_ms, cost_micros, device, status, period, n)
        ), placed as (
          -- A month with an invoice is closed: its late rows count in the open period, flagged.
          select i.*, exists (select 1 from invoices v where v.tenant_id = i.tenant_id and v.period = i.period) as late
          from input i
        ), ins as (
          insert into usage_events (source, event_id, tenant_id, model_id, version_id, deployment_id, request_id,
                                    occurred_at, items, compute_ms, cost_micros, device, status, period, late)
          select source, event_id, tenant_id, model_id, version_id, deployment_id, request_id, occurred_at, items,
                 compute_ms, cost_micros, device, status,
                 case when late then ${openPeriod} else period end, late
          from placed order by n
          on conflict (source, event_id) do nothing
          returning tenant_id, model_id, occurred_at, items, compute_ms, cost_micros, period, late
        ), rollup as (
          insert into usage_hourly as h (tenant_id, model_id, hour, requests, items, compute_ms, cost_micros)
          select tenant_id, model_id, date_trunc('hour', occurred_at, 'UTC'), count(*), sum(items), sum(compute_ms),
                 sum(cost_micros)
          from ins group by 1, 2, 3 order by 1, 2, 3
          on conflict (tenant_id, model_id, hour) do update set
            requests = h.requests + excluded.requests,
            items = h.items + excluded.items,
            compute_ms = h.compute_ms + excluded.compute_ms,
            cost_micros = h.cost_micros + excluded.cost_micros,
            updated_at = now()
        )
        select tenant_id, period, count(*)::int8 as events, sum(cost_micros)::int8 as cost,
               count(*) filter (where late)::int8 as late
        from ins group by 1, 2`.execute(trx);
      return out.map((r) => ({
        tenantId: r.tenant_id,
        period: r.period,
        events: Number(r.events),
        costMicros: BigInt(r.cost),
        late: Number(r.late),
      }));
    });
  }

  async periodTotals(period: string): Promise<Map<string, bigint>> {
    const rows = await withSystem(this.db, (trx) =>
      trx
        .selectFrom("usage_events")
        .select(["tenant_id", (eb) => eb.fn.sum<bigint | string>("cost_micros").as("cost")])
        .where("period", "=", period)
        .groupBy("tenant_id")
        .execute(),
    );
    return new Map(rows.map((r) => [r.tenant_id, BigInt(r.cost)]));
  }

  async prices(): Promise<PriceRow[]> {
    const rows = await withSystem(this.db, (trx) => trx.selectFrom("prices").selectAll().execute());
    return rows.map((r) => ({
      plan: r.plan,
      tenantId: r.tenant_id,
      device: r.device,
      currency: r.currency,
      per1kInferencesMicros: BigInt(r.per_1k_inferences_micros),
      perComputeSecondMicros: BigInt(r.per_compute_second_micros),
      validFrom: r.valid_from,
    }));
  }

  async deploymentDevices(ids: readonly string[]): Promise<Map<string, Device>> {
    if (ids.length === 0) return new Map();
    const rows = await withSystem(this.db, (trx) =>
      trx
        .selectFrom("deployments")
        .select(["id", "device"])
        .where("id", "in", [...ids])
        .execute(),
    );
    return new Map(rows.map((r) => [r.id, r.device]));
  }

  async tenantPlans(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await withSystem(this.db, (trx) =>
      trx
        .selectFrom("tenants")
        .select(["id", "plan"])
        .where("id", "in", [...ids])
        .execute(),
    );
    return new Map(rows.map((r) => [r.id, r.plan]));
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
