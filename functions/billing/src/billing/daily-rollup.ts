import type { Database } from "@maas/db";
import { PostgresUsageStore, periodOfDate, type SpendSink } from "@maas/fn-metering/usage";
import type { Kysely } from "kysely";

export interface DailyRollupResult {
  period: string;
  tenants: number;
  totalMicros: bigint;
}

/**
 * Daily running totals: every tenant's month-to-date spend of the open period, from Postgres (the
 * hourly rollups metering maintains are already the per-day totals the control API sums), copied
 * into the spend counters the budget check reads — a daily backstop to metering's own reconcile.
 *
 * @example
 * const r = await dailyRollup({ db, spend }); // { period: "2026-02", tenants: 12, totalMicros: 1234n }
 */
export async function dailyRollup(options: {
  db: Kysely<Database>;
  spend?: SpendSink;
  clock?: () => Date;
}): Promise<DailyRollupResult> {
  const period = periodOfDate((options.clock ?? (() => new Date()))());
  const totals = await new PostgresUsageStore(options.db).periodTotals(period);
  await options.spend?.reconcile(period, totals);
  let totalMicros = 0n;
  for (const v of totals.values()) totalMicros += v;
  return { period, tenants: totals.size, totalMicros };
}
