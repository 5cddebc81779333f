import { type Database, withSystem } from "@maas/db";
import type { Kysely } from "kysely";
import { LRUCache } from "lru-cache";
import { DEFAULT_QUOTAS, type Quotas } from "./types.js";

/** Where a tenant's limits come from. Unknown tenants get the table's defaults. */
export interface QuotaSource {
  get(tenantId: string): Promise<Quotas>;
}

/** Fixed quotas per tenant, for tests, benchmarks and the embedded mode. */
export class StaticQuotaSource implements QuotaSource {
  private readonly quotas = new Map<string, Quotas>();

  constructor(
    entries: Record<string, Partial<Quotas>> = {},
    private readonly defaults: Quotas = DEFAULT_QUOTAS,
  ) {
    for (const [tenantId, q] of Object.entries(entries)) this.set(tenantId, q);
  }

  set(tenantId: string, quotas: Partial<Quotas>): void {
    this.quotas.set(tenantId, { ...this.defaults, ...this.quotas.get(tenantId), ...quotas });
  }

  async get(tenantId: string): Promise<Quotas> {
    return this.quotas.get(tenantId) ?? this.defaults;
  }
}

/**
 * The `quotas` table, read as `maas_system` (the decision runs for any tenant, before the request's
 * tenant scope exists).
 *
 * @example
 * const source = new PostgresQuotaSource(db);
 * await source.set("tnt_1", { maxQps: 50 });
 * (await source.get("tnt_1")).maxQps; // 50
 */
export class PostgresQuotaSource implements QuotaSource {
  constructor(private readonly db: Kysely<Database>) {}

  async get(tenantId: string): Promise<Quotas> {
    const row = await withSystem(this.db, (trx) =>
      trx.selectFrom("quotas").selectAll().where("tenant_id", "=", tenantId).executeTakeFirst(),
    );
    if (!row) return DEFAULT_QUOTAS;
    return {
      maxModels: row.max_models,
      maxStorageBytes: BigInt(row.max_storage_bytes),
      maxQps: row.max_qps,
      maxConcurrency: row.max_concurrency,
      monthlyBudgetMicros: BigInt(row.monthly_budget_micros),
    };
  }

  /** Upserts a tenant's quotas (admin API); invalidate caches in front of this source afterwards. */
  async set(tenantId: string, patch: Partial<Quotas>): Promise<Quotas> {
    const values = {
      ...(patch.maxModels !== undefined && { max_models: patch.maxModels }),
      ...(patch.maxStorageBytes !== undefined && { max_storage_bytes: patch.maxStorageBytes }),
      ...(patch.maxQps !== undefined && { max_qps: patch.maxQps }),
      ...(patch.maxConcurrency !== undefined && { max_concurrency: patch.maxConcurrency }),
      ...(patch.monthlyBudgetMicros !== undefined && { monthly_budget_micros: patch.monthlyBudgetMicros }),
    };
    await withSystem(this.db, (trx) =>
      trx
        .insertInto("quotas")
        .values({ tenant_id: tenantId, ...values })
        .onConflict((oc) => oc.column("tenant_id").doUpdateSet({ ...values, updated_at: new Date() }))
        .execute(),
    );
    return this.get(tenantId);
  }
}

export interface CachedQuotaSourceOptions {
  /** How long a tenant's quotas are trusted without asking the source again; default 5 s. */
  ttlMs?: number;
  max?: number;
}

/**
 * An in-process LRU in front of a source, so the hot path reads quotas without any I/O. Concurrent
 * misses for one tenant share one fetch (lru-cache `fetch`).
 *
 * @example
 * const quotas = new CachedQuotaSource(new PostgresQuotaSource(db), { ttlMs: 5000 });
 */
export class CachedQuotaSource implements QuotaSource {
  private readonly cache: LRUCache<string, Quotas>;
  hits = 0;
  misses = 0;

  constructor(source: QuotaSource, options: CachedQuotaSourceOptions = {}) {
    this.cache = new LRUCache<string, Quotas>({
      max: options.max ?? 10_000,
      ttl: options.ttlMs ?? 5000,
      fetchMethod: async (tenantId) => {
        this.misses++;
        return source.get(tenantId);
      },
    });
  }

  async get(tenantId: string): Promise<Quotas> {
    const cached = this.cache.get(tenantId);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    const fetched = await this.cache.fetch(tenantId);
    return fetched ?? DEFAULT_QUOTAS;
  }

  invalidate(tenantId: string): void {
    this.cache.delete(tenantId);
  }
}
