import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/**
 * Kysely table types, written by hand from `migrations/`. Keep them in step with the SQL: a column
 * added in a migration is added here in the same change.
 *
 * Conventions: `int8`/`bigint` columns (money in micro-units, byte counts, bigserial ids) are JS
 * `bigint` on both engines (`create-db.ts` configures the pg parser; PGlite does it natively);
 * `timestamptz` columns are `Date` (UTC instants).
 */

/** A timestamp the database fills in (`default now()`), never updated by the application. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** A nullable timestamp the application sets. */
export type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;
/** An int8 column; inserts and updates accept a safe integer `number` too. */
export type Int8 = ColumnType<bigint, bigint | number, bigint | number>;
/** An int8 column with a database default. */
export type Int8WithDefault = ColumnType<bigint, bigint | number | undefined, bigint | number>;
/** A bigserial primary key: generated on insert, never updated. */
export type Serial8 = ColumnType<bigint, never, never>;
/** A jsonb column holding a JSON object. */
export type JsonObject = { [key: string]: unknown };

export const TENANT_STATUSES = ["active", "suspended", "deleted"] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/** Roles of a member or an API key inside one tenant, most to least privileged. */
export const TENANT_ROLES = ["owner", "admin", "developer", "viewer"] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export interface TenantsTable {
  /** `tnt_…` */
  id: string;
  slug: string;
  name: string;
  plan: Generated<string>;
  status: Generated<TenantStatus>;
  created_at: CreatedAt;
}

export interface QuotasTable {
  tenant_id: ColumnType<string, string, never>;
  max_models: Generated<number>;
  max_storage_bytes: Int8WithDefault;
  max_qps: Generated<number>;
  max_concurrency: Generated<number>;
  monthly_budget_micros: Int8WithDefault;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ApiKeysTable {
  /** `key_…` */
  id: ColumnType<string, string, never>;
  tenant_id: ColumnType<string, string, never>;
  /** The public, unique part of the key shown to users; the lookup handle. */
  prefix: ColumnType<string, string, never>;
  /** Hash of the secret part; the secret itself is never stored. */
  hash: string;
  role: TenantRole;
  name: string;
  created_at: CreatedAt;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface MembersTable {
  /** `mem_…` */
  id: ColumnType<string, string, never>;
  tenant_id: ColumnType<string, string, never>;
  /** The identity provider's subject (JWT `sub`). */
  subject: string;
  role: TenantRole;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: Serial8;
  tenant_id: ColumnType<string, string, never>;
  actor: ColumnType<string, string, never>;
  action: ColumnType<string, string, never>;
  target: ColumnType<string | null, string | null | undefined, never>;
  details: ColumnType<JsonObject, JsonObject | string | undefined, never>;
  request_id: ColumnType<string | null, string | null | undefined, never>;
  created_at: CreatedAt;
}

export interface OutboxTable {
  /** Relay order. */
  id: Serial8;
  /** The CloudEvent id; unique so a retried producer cannot enqueue an event twice. */
  event_id: ColumnType<string, string, never>;
  /** Null for platform-level events. */
  tenant_id: ColumnType<string | null, string | null | undefined, never>;
  topic: ColumnType<string, string, never>;
  /** Structured-mode CloudEvent JSON. */
  event: ColumnType<JsonObject, JsonObject | string, never>;
  created_at: CreatedAt;
  published_at: NullableTimestamp;
}

export interface Database {
  tenants: TenantsTable;
  quotas: QuotasTable;
  api_keys: ApiKeysTable;
  members: MembersTable;
  audit_log: AuditLogTable;
  outbox: OutboxTable;
}

/** Tables that carry `tenant_id` and are filtered by row-level security (tenants filters on `id`). */
export const TENANT_TABLES = ["quotas", "api_keys", "members", "audit_log", "outbox"] as const;

export type Tenant = Selectable<TenantsTable>;
export type NewTenant = Insertable<TenantsTable>;
export type TenantUpdate = Updateable<TenantsTable>;
export type Quota = Selectable<QuotasTable>;
export type NewQuota = Insertable<QuotasTable>;
export type QuotaUpdate = Updateable<QuotasTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type NewApiKey = Insertable<ApiKeysTable>;
export type ApiKeyUpdate = Updateable<ApiKeysTable>;
export type Member = Selectable<MembersTable>;
export type NewMember = Insertable<MembersTable>;
export type MemberUpdate = Updateable<MembersTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type NewAuditEntry = Insertable<AuditLogTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;
