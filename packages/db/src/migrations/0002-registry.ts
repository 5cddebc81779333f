import { type Kysely, sql } from "kysely";

// A migration is a frozen snapshot: it must keep producing the same schema forever, so it uses no
// helper or constant from the rest of the package (those may change; this file must not). The
// isolation pattern below is 0001's, copied on purpose rather than imported.

const APP = "maas_app";
const SYSTEM = "maas_system";
// Evaluated once per query (an InitPlan); `true` = missing_ok, so no tenant set means no rows.
const CURRENT_TENANT = "(select current_setting('app.tenant_id', true))";
// A DNS label (RFC 1123): model and deployment names end up in URLs and Kubernetes object names.
const DNS_LABEL_63 = "'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'";
// Deployment names become Knative Service names; Knative derives revision names (`<name>-00001`)
// and private services (`<name>-00001-private`) from them, which must stay within 63 characters.
const DNS_LABEL_40 = "'^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'";
const SHA256_HEX = "'^[0-9a-f]{64}$'";

const TABLES = [
  `create table models (
    id text primary key check (id ~ '^mdl_[0-9a-z]+$'),
    tenant_id text not null references tenants (id) on delete cascade,
    name text not null check (name ~ ${DNS_LABEL_63}),
    description text check (length(description) <= 2000),
    created_at timestamptz not null default now(),
    deleted_at timestamptz,
    -- the target of the composite foreign keys below (a child row can never point at another
    -- tenant's model), and the tenant_id index (leading column)
    unique (tenant_id, id)
  )`,
  // A deleted model frees its name for reuse; a live one holds it.
  "create unique index models_tenant_name_key on models (tenant_id, name) where deleted_at is null",
  `create table model_versions (
    id text primary key check (id ~ '^mver_[0-9a-z]+$'),
    tenant_id text not null references tenants (id) on delete cascade,
    model_id text not null,
    version integer not null check (version >= 1),
    status text not null default 'uploading'
      check (status in ('uploading', 'uploaded', 'validating', 'ready', 'rejected')),
    size_bytes bigint not null check (size_bytes >= 0),
    sha256 text not null check (sha256 ~ ${SHA256_HEX}),
    object_key text not null,
    signature jsonb,
    variants jsonb not null default '[]'::jsonb check (jsonb_typeof(variants) = 'array'),
    rejection_reason text,
    rejection_code text,
    created_at timestamptz not null default now(),
    ready_at timestamptz,
    -- also the index for "versions of a model, newest first"
    unique (model_id, version),
    unique (tenant_id, id),
    foreign key (tenant_id, model_id) references models (tenant_id, id) on delete cascade
  )`,
  `create table uploads (
    id text primary key check (id ~ '^upl_[0-9a-z]+$'),
    tenant_id text not null references tenants (id) on delete cascade,
    model_id text not null,
    version_id text not null,
    status text not null default 'active' check (status in ('active', 'completed', 'aborted', 'expired')),
    object_key text not null,
    s3_upload_id text not null,
    size_bytes bigint not null check (size_bytes >= 0),
    sha256 text not null check (sha256 ~ ${SHA256_HEX}),
    part_size bigint not null check (part_size > 0),
    -- S3 allows at most 10,000 parts per multipart upload
    part_count integer not null check (part_count between 1 and 10000),
    expires_at timestamptz not null,
    created_at timestamptz not null default now(),
    completed_at timestamptz,
    unique (tenant_id, id),
    foreign key (tenant_id, model_id) references models (tenant_id, id) on delete cascade,
    foreign key (tenant_id, version_id) references model_versions (tenant_id, id) on delete cascade
  )`,
  // The cleanup job: "active uploads past their expiry", across tenants (system role).
  "create index uploads_cleanup_idx on uploads (status, expires_at)",
  "create index uploads_version_id_idx on uploads (version_id)",
  `create table deployments (
    id text primary key check (id ~ '^dep_[0-9a-z]+$'),
    tenant_id text not null references tenants (id) on delete cascade,
    model_id text not null,
    version_id text not null,
    name text not null check (name ~ ${DNS_LABEL_40}),
    variant text not null default 'fp32' check (variant in ('fp32', 'fp16', 'int8')),
    device text not null default 'cpu' check (device in ('cpu', 'gpu')),
    status text not null default 'pending'
      check (status in ('pending', 'ready', 'failed', 'deleting', 'deleted')),
    -- 0 = scale to zero
    min_scale integer not null default 0 check (min_scale >= 0),
    max_scale integer not null default 1 check (max_scale >= 1 and max_scale >= min_scale),
    target_concurrency integer not null default 1 check (target_concurrency >= 1),
    max_batch_size integer not null default 1 check (max_batch_size >= 1),
    url text,
    failure_reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    foreign key (tenant_id, model_id) references models (tenant_id, id) on delete cascade,
    foreign key (tenant_id, version_id) references model_versions (tenant_id, id) on delete cascade
  )`,
  // A deleted deployment frees its name; one being deleted still holds it (its Service still exists).
  "create unique index deployments_tenant_name_key on deployments (tenant_id, name) where status <> 'deleted'",
  "create index deployments_version_id_idx on deployments (version_id)",
  // Bytes reserved at upload create, moved to used at complete, released on abort or expiry. A
  // tenant without a row has used and reserved nothing (the control API upserts it).
  `create table tenant_storage (
    tenant_id text primary key references tenants (id) on delete cascade,
    used_bytes bigint not null default 0 check (used_bytes >= 0),
    reserved_bytes bigint not null default 0 check (reserved_bytes >= 0),
    updated_at timestamptz not null default now()
  )`,
];

/** Table → privileges of maas_app (every table is filtered on tenant_id). */
const ISOLATION: [table: string, appPrivileges: string][] = [
  // Models are soft-deleted (deleted_at): tenants never delete rows.
  ["models", "select, insert, update"],
  // The control API creates the version at upload create and may drop it when that upload is
  // aborted before anything was stored; the pipeline (system role) moves it through validation.
  ["model_versions", "select, insert, update, delete"],
  ["uploads", "select, insert, update"],
  // Deleting a deployment is a status change the deployer acts on.
  ["deployments", "select, insert, update"],
  // The control API reserves and settles bytes in the same transaction as the upload.
  ["tenant_storage", "select, insert, update"],
];

function isolation(table: string, appPrivileges: string): string[] {
  return [
    `alter table ${table} enable row level security`,
    // FORCE: the owner is subject to the policies too; only the roles below get rows.
    `alter table ${table} force row level security`,
    `create policy ${table}_tenant_isolation on ${table} for all to ${APP}
       using (tenant_id = ${CURRENT_TENANT}) with check (tenant_id = ${CURRENT_TENANT})`,
    // Only sessions that switched to maas_system, not roles that merely inherit it (see 0001).
    `create policy ${table}_system_all on ${table} for all to ${SYSTEM}
       using ((select current_user) = '${SYSTEM}') with check ((select current_user) = '${SYSTEM}')`,
    `grant ${appPrivileges} on ${table} to ${APP}`,
    `grant select, insert, update, delete on ${table} to ${SYSTEM}`,
  ];
}

export async function up(db: Kysely<unknown>): Promise<void> {
  // One statement per call: PGlite's extended-protocol query accepts a single statement.
  const statements = [...TABLES, ...ISOLATION.flatMap(([table, privileges]) => isolation(table, privileges))];
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw("drop table if exists tenant_storage, deployments, uploads, model_versions, models")
    .execute(db);
}
