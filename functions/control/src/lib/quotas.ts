import type { Database } from "@maas/db";
import { AppError } from "@maas/errors";
import {
  checkModelCount,
  checkStorage,
  DEFAULT_QUOTAS,
  type QuotaSource,
  type TenantHoldings,
} from "@maas/quota";
import { sql, type Transaction } from "kysely";

// The quota module decides; these adapters feed it from the request's own transaction, so the
// check and the write it guards see the same rows (and the storage row is locked between them).

function quotaSourceIn(trx: Transaction<Database>): QuotaSource {
  return {
    async get(tenantId) {
      const row = await trx
        .selectFrom("quotas")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .executeTakeFirst();
      if (row === undefined) return DEFAULT_QUOTAS;
      return {
        maxModels: row.max_models,
        maxStorageBytes: BigInt(row.max_storage_bytes),
        maxQps: row.max_qps,
        maxConcurrency: row.max_concurrency,
        monthlyBudgetMicros: BigInt(row.monthly_budget_micros),
      };
    },
  };
}

/** Refuses a model beyond the tenant's `max_models` with 403 QUOTA_EXCEEDED. */
export async function assertModelQuota(trx: Transaction<Database>, tenantId: string): Promise<void> {
  const holdings: TenantHoldings = {
    async modelCount() {
      const row = await trx
        .selectFrom("models")
        .select((eb) => eb.fn.countAll<string | number | bigint>().as("n"))
        .where("deleted_at", "is", null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    storageBytes: async () => 0n,
  };
  const check = await checkModelCount({ quotas: quotaSourceIn(trx), holdings }, tenantId);
  if (!check.allowed) {
    throw new AppError("QUOTA_EXCEEDED", check.error.message, {
      details: { quota: "models", limit: Number(check.limit), used: Number(check.used), requested: 1 },
    });
  }
}

/**
 * Reserves `bytes` of the tenant's storage for an upload, or throws 403 QUOTA_EXCEEDED with
 * `{ limit, used, requested }` (used = stored + already reserved). The tenant_storage row is locked
 * for the rest of the transaction, so two concurrent creates cannot both take the last bytes.
 */
export async function reserveStorage(
  trx: Transaction<Database>,
  tenantId: string,
  bytes: bigint,
): Promise<void> {
  await trx
    .insertInto("tenant_storage")
    .values({ tenant_id: tenantId })
    .onConflict((oc) => oc.column("tenant_id").doNothing())
    .execute();
  const row = await trx
    .selectFrom("tenant_storage")
    .select(["used_bytes", "reserved_bytes"])
    .where("tenant_id", "=", tenantId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const holdings: TenantHoldings = {
    modelCount: async () => 0,
    storageBytes: async () => BigInt(row.used_bytes) + BigInt(row.reserved_bytes),
  };
  const check = await checkStorage({ quotas: quotaSourceIn(trx), holdings }, tenantId, bytes);
  if (!check.allowed) {
    throw new AppError("QUOTA_EXCEEDED", check.error.message, {
      details: {
        quota: "storage",
        limit: Number(check.limit),
        used: Number(check.used),
        requested: Number(bytes),
      },
    });
  }
  await trx
    .updateTable("tenant_storage")
    .set({ reserved_bytes: sql`reserved_bytes + ${bytes.toString()}::bigint`, updated_at: sql`now()` })
    .where("tenant_id", "=", tenantId)
    .execute();
}

/** Moves an upload's reservation to used bytes (at complete). */
export async function settleStorage(
  trx: Transaction<Database>,
  tenantId: string,
  bytes: bigint,
): Promise<void> {
  await trx
    .updateTable("tenant_storage")
    .set({
      reserved_bytes: sql`greatest(reserved_bytes - ${bytes.toString()}::bigint, 0)`,
      used_bytes: sql`used_bytes + ${bytes.toString()}::bigint`,
      updated_at: sql`now()`,
    })
    .where("tenant_id", "=", tenantId)
    .execute();
}

/** Gives an upload's reservation back (abort, expiry). */
export async function releaseStorage(
  trx: Transaction<Database>,
  tenantId: string,
  bytes: bigint,
): Promise<void> {
  await trx
    .updateTable("tenant_storage")
    .set({
      reserved_bytes: sql`greatest(reserved_bytes - ${bytes.toString()}::bigint, 0)`,
      updated_at: sql`now()`,
    })
    .where("tenant_id", "=", tenantId)
    .execute();
}
