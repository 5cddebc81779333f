import { createEvent, type EventPublisher, events } from "@maas/events";
import type { Redis } from "ioredis";
import { PERIOD_KEY_TTL_SECONDS, periodOf, type QuotaKeys, quotaKeys } from "./keys.js";
import { RECORD_SPEND_SCRIPT } from "./lua.js";
import type { QuotaSource } from "./quota-source.js";
import { type QuotaLogger, silentLogger } from "./types.js";

export const BUDGET_THRESHOLDS = [50, 80, 100] as const;
export type BudgetThreshold = (typeof BUDGET_THRESHOLDS)[number];

/** Postgres, the truth for spend (usage rollups, issue 7); Redis is its fast copy. */
export interface SpendSource {
  monthToDateMicros(tenantId: string, period: string): Promise<bigint>;
}

export interface SpendLedgerOptions {
  redis: Redis;
  quotas: QuotaSource;
  publisher: EventPublisher;
  keyPrefix?: string;
  /** CloudEvent source of the threshold events. */
  source?: string;
  logger?: QuotaLogger;
}

export interface RecordSpendInput {
  tenantId: string;
  amountMicros: number;
  /** When the spend happened (picks the period); defaults to now. */
  at?: number;
}

export interface RecordSpendResult {
  period: string;
  totalMicros: number;
  /** Thresholds this call crossed first in the period (their events were published). */
  crossed: BudgetThreshold[];
}

interface SpendCommands {
  maasQuotaRecordSpend(...args: (string | number)[]): Promise<[number, number[]]>;
}

/**
 * Month-to-date spend in Redis (key per tenant and UTC month) and the budget threshold events:
 * `quota.threshold.crossed` at 50/80/100 % of the budget, once per period each (SET NX markers set
 * in the same script as the increment).
 *
 * @example
 * const ledger = new SpendLedger({ redis, quotas, publisher });
 * await ledger.recordSpend({ tenantId: "tnt_1", amountMicros: 1200 }); // metering, after dedup
 */
export class SpendLedger {
  readonly keys: QuotaKeys;
  private readonly commands: SpendCommands;
  private readonly logger: QuotaLogger;

  constructor(private readonly options: SpendLedgerOptions) {
    this.keys = quotaKeys(options.keyPrefix ?? "maas:quota:");
    this.logger = options.logger ?? silentLogger;
    options.redis.defineCommand("maasQuotaRecordSpend", { numberOfKeys: 4, lua: RECORD_SPEND_SCRIPT });
    this.commands = options.redis as unknown as SpendCommands;
  }

  /**
   * Adds metered spend. Throws when Redis is unreachable so metering retries; a failed event
   * publish does not throw (the increment is done and must not be repeated): its markers are
   * cleared so the next spend of the period publishes again.
   */
  async recordSpend(input: RecordSpendInput): Promise<RecordSpendResult> {
    if (!Number.isSafeInteger(input.amountMicros) || input.amountMicros < 0) {
      throw new RangeError("amountMicros must be a non-negative safe integer");
    }
    const period = periodOf(input.at ?? Date.now());
    const quotas = await this.options.quotas.get(input.tenantId);
    const budget = quotas.monthlyBudgetMicros;
    const markers = BUDGET_THRESHOLDS.map((pct) => this.keys.threshold(input.tenantId, period, pct));
    const [total, crossedRaw] = await this.commands.maasQuotaRecordSpend(
      this.keys.spend(input.tenantId, period),
      ...markers,
      input.amountMicros,
      budget.toString(),
      PERIOD_KEY_TTL_SECONDS,
    );
    const crossed = crossedRaw.map((n) => Number(n) as BudgetThreshold);
    if (crossed.length > 0) {
      const evs = crossed.map((thresholdPercent) =>
        createEvent(events.quotaThresholdCrossed, {
          source: this.options.source ?? "/functions/quota",
          data: {
            tenantId: input.tenantId,
            quota: "budget",
            thresholdPercent,
            used: total,
            limit: Number(budget),
            unit: "micros",
            period,
          },
        }),
      );
      try {
        await this.options.publisher.publish(evs);
      } catch (err) {
        this.logger.error(
          { err, tenantId: input.tenantId, crossed },
          "quota: threshold events not published",
        );
        await this.options.redis.del(
          ...crossed.map((pct) => this.keys.threshold(input.tenantId, period, pct)),
        );
      }
    }
    return { period, totalMicros: total, crossed };
  }

  async monthToDate(tenantId: string, at = Date.now()): Promise<number> {
    return Number((await this.options.redis.get(this.keys.spend(tenantId, periodOf(at)))) ?? 0);
  }

  /** Overwrites Redis's month-to-date spend with the truth (reconciliation, issue 7). */
  async reconcile(tenantId: string, source: SpendSource, at = Date.now()): Promise<number> {
    const period = periodOf(at);
    const truth = await source.monthToDateMicros(tenantId, period);
    await this.options.redis.set(
      this.keys.spend(tenantId, period),
      truth.toString(),
      "EX",
      PERIOD_KEY_TTL_SECONDS,
    );
    return Number(truth);
  }
}
