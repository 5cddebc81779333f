import { type Database, type TenantRole, type TenantStatus, withSystem } from "@maas/db";
import type { Kysely } from "kysely";

/**
 * What verification needs to know about a key, as stored. Plain JSON (no Date, no bigint), so a
 * shared cache (Redis) can hold it as well as the in-process one.
 */
export interface ApiKeyRecord {
  keyId: string;
  tenantId: string;
  role: TenantRole;
  hash: string;
  revoked: boolean;
  tenantStatus: TenantStatus;
}

/**
 * Finds a key by its prefix across all tenants. It runs as the system role because the tenant is
 * exactly what the key is about to tell us; it reads one row by a unique index and nothing else.
 *
 * @example
 * const record = await lookupApiKey(db, parsed.prefix);
 */
export async function lookupApiKey(db: Kysely<Database>, prefix: string): Promise<ApiKeyRecord | undefined> {
  const row = await withSystem(db, (trx) =>
    trx
      .selectFrom("api_keys")
      .innerJoin("tenants", "tenants.id", "api_keys.tenant_id")
      .select([
        "api_keys.id",
        "api_keys.tenant_id",
        "api_keys.role",
        "api_keys.hash",
        "api_keys.revoked_at",
        "tenants.status",
      ])
      .where("api_keys.prefix", "=", prefix)
      .executeTakeFirst(),
  );
  if (row === undefined) return undefined;
  return {
    keyId: row.id,
    tenantId: row.tenant_id,
    role: row.role,
    hash: row.hash,
    revoked: row.revoked_at !== null,
    tenantStatus: row.status,
  };
}
