import { AppError } from "@maas/errors";
import type { QuotaSource } from "./quota-source.js";

/**
 * What a tenant holds now, counted in Postgres by the registry (models, model_versions). An
 * interface because those tables belong to the registry's migration.
 */
export interface TenantHoldings {
  modelCount(tenantId: string): Promise<number>;
  storageBytes(tenantId: string): Promise<bigint>;
}

export type CountCheck =
  | { allowed: true; used: bigint; limit: bigint }
  | { allowed: false; limit: bigint; used: bigint; error: AppError };

function verdict(what: "models" | "storage", used: bigint, adding: bigint, limit: bigint): CountCheck {
  if (used + adding <= limit) return { allowed: true, used, limit };
  const message =
    what === "models"
      ? `model limit of ${limit} reached`
      : `storage limit of ${limit} bytes would be exceeded (${used} used, ${adding} more)`;
  return {
    allowed: false,
    used,
    limit,
    error: new AppError("QUOTA_EXCEEDED", message, {
      details: { limit: what, value: limit.toString(), used: used.toString(), requested: adding.toString() },
    }),
  };
}

/**
 * May the tenant create `adding` more models? For the control API's writes (Postgres only).
 *
 * @example
 * const check = await checkModelCount({ quotas, holdings }, tenantId);
 * if (!check.allowed) throw check.error;
 */
export async function checkModelCount(
  deps: { quotas: QuotaSource; holdings: TenantHoldings },
  tenantId: string,
  adding = 1,
): Promise<CountCheck> {
  const [q, used] = await Promise.all([deps.quotas.get(tenantId), deps.holdings.modelCount(tenantId)]);
  return verdict("models", BigInt(used), BigInt(adding), BigInt(q.maxModels));
}

/**
 * May the tenant store `bytesToAdd` more bytes? Checked at upload create and again at complete.
 *
 * @example
 * const check = await checkStorage({ quotas, holdings }, tenantId, 5_000_000_000n);
 * if (!check.allowed) throw check.error;
 */
export async function checkStorage(
  deps: { quotas: QuotaSource; holdings: TenantHoldings },
  tenantId: string,
  bytesToAdd: bigint,
): Promise<CountCheck> {
  const [q, used] = await Promise.all([deps.quotas.get(tenantId), deps.holdings.storageBytes(tenantId)]);
  return verdict("storage", used, bytesToAdd, q.maxStorageBytes);
}
