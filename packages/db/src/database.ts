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

// ---- 0002-registry ----

/** Lifecycle of an uploaded model version: the upload, then the pipeline's verdict. */
export const MODEL_VERSION_STATUSES = ["uploading", "uploaded", "validating", "ready", "rejected"] as const;
export type ModelVersionStatus = (typeof MODEL_VERSION_STATUSES)[number];

export const UPLOAD_STATUSES = ["active", "completed", "aborted", "expired"] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

export const DEPLOYMENT_STATUSES = ["pending", "ready", "failed", "deleting", "deleted"] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const MODEL_VARIANTS = ["fp32", "fp16", "int8"] as const;
export type ModelVariant = (typeof MODEL_VARIANTS)[number];

export const DEVICES = ["cpu", "gpu"] as const;
export type Device = (typeof DEVICES)[number];

/**
 * A jsonb column holding a JSON array. Writes take the JSON text: node-postgres would send a JS
 * array as a Postgres array literal (`{…}`), which jsonb rejects.
 */
export type JsonArrayColumn = ColumnType<unknown[], string | undefined, string>;
/** A nullable jsonb column holding a JSON object. */
export type NullableJsonObject = ColumnType<
  JsonObject | null,
  JsonObject | string | null | undefined,
  JsonObject | string | null
>;

export interface ModelsTable {
  /** `mdl_…` */
  id: ColumnType<string, string, never>;
  tenant_id: ColumnType<string, string, never>;
  /** A DNS label, unique per tenant among models that are not deleted. */
  name: string;
  description: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  /** Soft delete: set = gone for the tenant, the name is free again. */
  deleted_at: NullableTimestamp;
}

export interface ModelVersionsTable {
  /** `mver_…` */
  id: ColumnType<string, string, never>;
  tenant_id: ColumnType<string, string, never>;
  model_id: ColumnType<string, string, never>;
  /** 1, 2, 3 … per model. */
  version: ColumnType<number, number, never>;
  status: ColumnType<ModelVersionStatus, ModelVersionStatus | undefined, ModelVersionStatus>;
  size_bytes: Int8;
  /** Lower-case hex SHA-256 of the FP32 file as declared at upload create. */
  sha256: string;
  object_key: string;
  /** Inputs and outputs extracted by the pipeline; null until validated. */
  signature: NullableJsonObject;
  /** Built variants (fp16, int8 …) with their size, accuracy and latency. */
  variants: JsonArrayColumn;
  rejection_reason: ColumnType<string | null, string | null | undefined, string | null>;
  rejection_code: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  ready_at: NullableTimestamp;
  // ---- 0004-pipeline-claims ----
  /** When the pipeline's current claim (`validating`) was taken; a claim older than the stale age is taken over. */
  validation_started_at: NullableTimestamp;
  /** Times validation was started (claims, takeovers included): the claim's fencing token and its bound. */
  validation_attempts: Generated<number>;
}

export interface UploadsTable {
  /** `upl_…` */
  id: ColumnType<string, string, never>;
  tenant_id: ColumnType<string, string, never>;
  model_id: ColumnType<string, string, never>;
  version_id: ColumnType<string, string, never>;
  status: ColumnType<UploadStatus, UploadStatus | undefined, UploadStatus>;
  object_key: ColumnType<string, string, never>;
  /** The object store's multipart upload id. */
  s3_upload_id: ColumnType<string, string, never>;
  size_bytes: ColumnType<bigint, bigint | number, never>;
  sha256: ColumnType<string, string, never>;
  part_size: ColumnType<bigint, bigint | number, never>;
  part_count: ColumnType<number, number, never>;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  created_at: CreatedAt;
  completed_at: NullableTimestamp;
}

export interface DeploymentsTable {
  /** `dep_…` */
  id: ColumnType<string, string, never>;
  tenant_id: ColumnType<string, string, never>;
  model_id: ColumnType<string, string, never>;
  version_id: string;
  /** A DNS label of at most 40 characters (Knative derives longer names from it). */
  name: ColumnType<string, string, never>;
  variant: ColumnType<ModelVariant, ModelVariant | undefined, ModelVariant>;
  device: ColumnType<Device, Device | undefined, Device>;
  status: ColumnType<DeploymentStatus, DeploymentStatus | undefined, DeploymentStatus>;
  min_scale: Generated<number>;
  max_scale: Generated<number>;
  target_concurrency: Generated<number>;
  max_batch_size: Generated<number>;
  url: ColumnType<string | null, string | null | undefined, string | null>;
  failure_reason: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface TenantStorageTable {
  tenant_id: ColumnType<string, string, never>;
  used_bytes: Int8WithDefault;
  reserved_bytes: Int8WithDefault;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

// ---- 0003-billing ----

export const USAGE_STATUSES = ["ok", "error"] as const;
export type UsageStatus = (typeof USAGE_STATUSES)[number];
export const INVOICE_STATUSES = ["issued", "paid", "void"] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];
export const DELIVERY_STATUSES = ["pending", "retrying", "delivered", "dead"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A plan's price (tenant_id null) or a tenant's override (plan null), per device, from valid_from. */
export interface PricesTable {
  id: Serial8;
  plan: ColumnType<string | null, string | null | undefined, string | null>;
  tenant_id: ColumnType<string | null, string | null | undefined, never>;
  device: Device;
  currency: ColumnType<string, string | undefined, string>;
  per_1k_inferences_micros: Int8;
  per_compute_second_micros: Int8;
  valid_from: ColumnType<Date, Date | string | undefined, Date | string>;
  created_at: CreatedAt;
}

/** One metered CloudEvent; (source, event_id) is its identity, so a redelivery inserts nothing. */
export interface UsageEventsTable {
  source: ColumnType<string, string, never>;
  event_id: ColumnType<string, string, never>;
  tenant_id: ColumnType<string, string, never>;
  model_id: ColumnType<string, string, never>;
  version_id: ColumnType<string, string, never>;
  deployment_id: ColumnType<string, string, never>;
  request_id: ColumnType<string, string, never>;
  occurred_at: ColumnType<Date, Date | string, never>;
  items: ColumnType<number, number, never>;
  compute_ms: ColumnType<bigint, bigint | number, never>;
  /** Computed once at metering from the price in force; never recomputed. */
  cost_micros: ColumnType<bigint, bigint | number, never>;
  device: ColumnType<Device, Device, never>;
  status: ColumnType<UsageStatus, UsageStatus, never>;
  /** `YYYY-MM`: the event's month, or the open period when that month was already closed (`late`). */
  period: ColumnType<string, string, never>;
  late: ColumnType<boolean, boolean | undefined, never>;
  ingested_at: CreatedAt;
}

export interface UsageHourlyTable {
  tenant_id: ColumnType<string, string, never>;
  model_id: ColumnType<string, string, never>;
  hour: ColumnType<Date, Date | string, never>;
  requests: Int8WithDefault;
  items: Int8WithDefault;
  compute_ms: Int8WithDefault;
  cost_micros: Int8WithDefault;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface InvoicesTable {
  /** `inv_…` */
  id: ColumnType<string, string, never>;
  tenant_id: ColumnType<string, string, never>;
  period: ColumnType<string, string, never>;
  status: ColumnType<InvoiceStatus, InvoiceStatus | undefined, InvoiceStatus>;
  currency: ColumnType<string, string, never>;
  requests: ColumnType<bigint, bigint | number, never>;
  total_micros: ColumnType<bigint, bigint | number, never>;
  period_start: ColumnType<Date, Date | string, never>;
  period_end: ColumnType<Date, Date | string, never>;
  issued_at: CreatedAt;
}

export interface InvoiceLinesTable {
  id: Serial8;
  tenant_id: ColumnType<string, string, never>;
  invoice_id: ColumnType<string, string, never>;
  model_id: ColumnType<string, string, never>;
  description: ColumnType<string, string, never>;
  /** Inferences. */
  quantity: ColumnType<bigint, bigint | number, never>;
  compute_ms: ColumnType<bigint, bigint | number, never>;
  /** Average per inference, rounded half up; informative (the amount is the sum of metered costs). */
  unit_price_micros: ColumnType<bigint, bigint | number, never>;
  amount_micros: ColumnType<bigint, bigint | number, never>;
}

export interface WebhooksTable {
  /** `whk_…` */
  id: ColumnType<string, string, never>;
  tenant_id: ColumnType<string, string, never>;
  url: string;
  /** `whsec_<base64>`; readable by the system role only (column privilege), shown once at creation. */
  secret: string;
  /** Event types delivered; empty = all. Write JSON text. */
  event_types: JsonArrayColumn;
  description: ColumnType<string | null, string | null | undefined, string | null>;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface WebhookDeliveriesTable {
  id: Serial8;
  tenant_id: ColumnType<string, string, never>;
  webhook_id: ColumnType<string, string, never>;
  event_id: ColumnType<string, string, never>;
  event_type: ColumnType<string, string, never>;
  payload: ColumnType<JsonObject, JsonObject | string, never>;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  last_status_code: ColumnType<number | null, number | null | undefined, number | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  next_attempt_at: NullableTimestamp;
  delivered_at: NullableTimestamp;
  dead_lettered_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface Database {
  tenants: TenantsTable;
  quotas: QuotasTable;
  api_keys: ApiKeysTable;
  members: MembersTable;
  audit_log: AuditLogTable;
  outbox: OutboxTable;
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  uploads: UploadsTable;
  deployments: DeploymentsTable;
  tenant_storage: TenantStorageTable;
  prices: PricesTable;
  usage_events: UsageEventsTable;
  usage_hourly: UsageHourlyTable;
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

/** Tables that carry `tenant_id` and are filtered by row-level security (tenants filters on `id`). */
export const TENANT_TABLES = [
  "quotas",
  "api_keys",
  "members",
  "audit_log",
  "outbox",
  "models",
  "model_versions",
  "uploads",
  "deployments",
  "tenant_storage",
  "usage_events",
  "usage_hourly",
  "invoices",
  "invoice_lines",
  "webhooks",
  "webhook_deliveries",
] as const;

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

export type Model = Selectable<ModelsTable>;
export type NewModel = Insertable<ModelsTable>;
export type ModelUpdate = Updateable<ModelsTable>;
export type ModelVersion = Selectable<ModelVersionsTable>;
export type NewModelVersion = Insertable<ModelVersionsTable>;
export type ModelVersionUpdate = Updateable<ModelVersionsTable>;
export type Upload = Selectable<UploadsTable>;
export type NewUpload = Insertable<UploadsTable>;
export type UploadUpdate = Updateable<UploadsTable>;
export type Deployment = Selectable<DeploymentsTable>;
export type NewDeployment = Insertable<DeploymentsTable>;
export type DeploymentUpdate = Updateable<DeploymentsTable>;
export type TenantStorage = Selectable<TenantStorageTable>;
export type NewTenantStorage = Insertable<TenantStorageTable>;
export type TenantStorageUpdate = Updateable<TenantStorageTable>;

export type Price = Selectable<PricesTable>;
export type UsageEvent = Selectable<UsageEventsTable>;
export type UsageHourly = Selectable<UsageHourlyTable>;
export type Invoice = Selectable<InvoicesTable>;
export type InvoiceLine = Selectable<InvoiceLinesTable>;
export type Webhook = Selectable<WebhooksTable>;
export type NewWebhook = Insertable<WebhooksTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
