import type { QuotaSource, Quotas } from "@maas/quota";
import type { Codec } from "../codec.js";
import type { TwoLevelCache } from "../two-level-cache.js";

export const QUOTAS_CACHE = "quotas";

/** Quotas carry bigints (bytes, micro-units), which JSON cannot: they travel as decimal strings. */
export const quotasCodec: Codec<Quotas> = {
  encode: (q) =>
    JSON.stringify({
      ...q,
      maxStorageBytes: String(q.maxStorageBytes),
      monthlyBudgetMicros: String(q.monthlyBudgetMicros),
    }),
  decode: (text) => {
    const raw = JSON.parse(text) as Record<keyof Quotas, number | string>;
    return {
      maxModels: Number(raw.maxModels),
      maxStorageBytes: BigInt(raw.maxStorageBytes),
      maxQps: Number(raw.maxQps),
      maxConcurrency: Number(raw.maxConcurrency),
      monthlyBudgetMicros: BigInt(raw.monthlyBudgetMicros),
    };
  },
};

/**
 * A `QuotaSource` read through the two-level cache: the decision's quota lookup costs no I/O on an
 * L1 hit, and an admin write (`invalidate`) reaches every replica through pub/sub.
 *
 * @example
 * const cache = new TwoLevelCache<Quotas>({ name: QUOTAS_CACHE, redis, subscriber, ttlMs: 5000, codec: quotasCodec });
 * const quotas = new TwoLevelQuotaSource(new PostgresQuotaSource(db), cache);
 */
export class TwoLevelQuotaSource implements QuotaSource {
  constructor(
    private readonly source: QuotaSource,
    readonly cache: TwoLevelCache<Quotas>,
  ) {}

  async get(tenantId: string): Promise<Quotas> {
    const quotas = await this.cache.getOrLoad(tenantId, async () => ({
      value: await this.source.get(tenantId),
    }));
    // getOrLoad only returns undefined when the loader did; the source always answers.
    return quotas ?? this.source.get(tenantId);
  }

  invalidate(tenantId: string): Promise<void> {
    return this.cache.delete(tenantId);
  }
}
