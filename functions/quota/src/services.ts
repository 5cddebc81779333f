import type { AuthEnv, Verifier } from "@maas/auth";
import type { QuotaDecider, QuotaKeys, Quotas } from "@maas/quota";
import type { AppEnv } from "@maas/runtime";

/** Reads and writes a tenant's quotas; `set` must invalidate every cache in front of the table. */
export interface QuotaStore {
  get(tenantId: string): Promise<Quotas>;
  set(tenantId: string, patch: Partial<Quotas>): Promise<Quotas>;
}

/** What a tenant holds (models, storage), from Postgres. */
export interface HoldingsReader {
  holdings(
    tenantId: string,
  ): Promise<{ models: number; storageUsedBytes: bigint; storageReservedBytes: bigint }>;
}

/** Live counters from Redis for the usage view. */
export interface LiveUsage {
  currentQps(tenantId: string): Promise<number>;
  inFlight(tenantId: string): Promise<number>;
  monthToDateMicros(tenantId: string): Promise<number>;
}

export interface QuotaServices {
  verifier: Verifier;
  decider: Pick<QuotaDecider, "decide" | "release">;
  store: QuotaStore;
  holdings: HoldingsReader;
  live: LiveUsage;
}

export type QuotaEnv = AppEnv & AuthEnv;
export type { QuotaKeys };
