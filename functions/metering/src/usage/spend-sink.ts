import type { SpendLedger } from "@maas/quota";
import { periodStart } from "./period.js";

/**
 * Where metering advances month-to-date spend after a batch commits: the quota module's Redis
 * ledger in a real setup, a map when embedded. Postgres stays the truth; `reconcile` overwrites.
 */
export interface SpendSink {
  add(tenantId: string, period: string, micros: bigint): Promise<void>;
  /** Sets each tenant's counter for `period` to the Postgres total. */
  reconcile(period: string, totals: ReadonlyMap<string, bigint>): Promise<void>;
}

/**
 * The Redis ledger of `@maas/quota` (per-period keys, so budgets reset at the month boundary by
 * construction; threshold events at 50/80/100 %).
 *
 * @example
 * const sink = new LedgerSpendSink(new SpendLedger({ redis, quotas, publisher }));
 */
export class LedgerSpendSink implements SpendSink {
  constructor(private readonly ledger: SpendLedger) {}

  async add(tenantId: string, period: string, micros: bigint): Promise<void> {
    if (micros === 0n) return;
    // `at` picks the ledger's per-period key: any instant inside the period names it.
    await this.ledger.recordSpend({
      tenantId,
      amountMicros: Number(micros),
      at: periodStart(period).getTime(),
    });
  }

  async reconcile(period: string, totals: ReadonlyMap<string, bigint>): Promise<void> {
    const at = periodStart(period).getTime();
    for (const [tenantId, total] of totals) {
      await this.ledger.reconcile(tenantId, { monthToDateMicros: async () => total }, at);
    }
  }
}

/** In-process counters (embedded mode, unit tests). */
export class MemorySpendSink implements SpendSink {
  readonly totals = new Map<string, bigint>();

  async add(tenantId: string, period: string, micros: bigint): Promise<void> {
    const key = `${tenantId}:${period}`;
    this.totals.set(key, (this.totals.get(key) ?? 0n) + micros);
  }

  async reconcile(period: string, totals: ReadonlyMap<string, bigint>): Promise<void> {
    for (const [tenantId, total] of totals) this.totals.set(`${tenantId}:${period}`, total);
  }

  get(tenantId: string, period: string): bigint {
    return this.totals.get(`${tenantId}:${period}`) ?? 0n;
  }
}
