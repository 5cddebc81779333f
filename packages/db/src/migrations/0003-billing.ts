import { type Kysely, sql } from "kysely";

// A migration is a frozen snapshot: it must keep producing the same schema forever, so it uses no
// helper or constant from the rest of the package (those may change; this file must not). The
// isolation pattern below is 0001's, copied on purpose rather than imported.

const APP = "maas_app";
const SYSTEM = "maas_system";
// Evaluated once per query (an InitPlan); `true` = missing_ok, so no tenant set means no rows.
const CURRENT_TENANT = "(select current_setting('app.tenant_id', true))";
const PERIOD = "'^[0-9]{4}-(0[1-9]|1[0-2])$'";

const TABLES = [
  // Prices: a plan's row (tenant_id null) or a tenant's override (plan null). The row in force for
  // an event is the one with the latest valid_from not after the event; metering reads them all.
  `create table prices (
    id bigserial primary key,
    plan text,
    tenant_id text references tenants (id) on delete cascade,
    device text not null check (device in ('cpu', 'gpu')),
    currency text not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
    per_1k_inferences_micros bigint not null check (per_1k_inferences_micros >= 0),
    per_compute_second_micros bigint not null check (per_compute_second_micros >= 0),
    valid_from timestamptz not null default '1970-01-01T00:00:00Z',
    created_at timestamptz not null default now(),
    check ((plan is null) <> (tenant_id is null)),
    unique nulls not distinct (plan, tenant_id, device, valid_from)
  )`,
  // The fallback for every plan without prices of its own (0.05 EUR per 1,000 CPU inferences plus
  // 0.01 EUR per CPU-second; GPU 0.20 + 0.10).
  `insert into prices (plan, device, per_1k_inferences_micros, per_compute_second_micros) values
    ('default', 'cpu', 50000, 10000), ('default', 'gpu', 200000, 100000)`,
  // One row per CloudEvent ever metered: (source, id) is the CloudEvent's identity (spec §3.1.1),
  // so a redelivered event conflicts and changes nothing. No foreign keys: usage must land even when
  // it arrives after its model or deployment row is gone, and checking them would slow the hot insert.
  `create table usage_events (
    source text not null,
    event_id text not null,
    tenant_id text not null,
    model_id text not null,
    version_id text not null,
    deployment_id text not null,
    request_id text not null,
    occurred_at timestamptz not null,
    items integer not null check (items >= 0),
    compute_ms bigint not null check (compute_ms >= 0),
    -- computed once, at metering, from the price in force (never recomputed)
    cost_micros bigint not null check (cost_micros >= 0),
    device text not null check (device in ('cpu', 'gpu')),
    status text not null check (status in ('ok', 'error')),
    -- the billing period the row counts in: its own month, or the open one when that was closed (late)
    period text not null check (period ~ ${PERIOD}),
    late boolean not null default false,
    ingested_at timestamptz not null default now(),
    primary key (source, event_id)
  )`,
  // Period totals and invoice lines read (tenant, period) and sum costs: index-only with INCLUDE.
  "create index usage_events_tenant_period_idx on usage_events (tenant_id, period) include (model_id, cost_micros)",
  "create index usage_events_period_idx on usage_events (period, tenant_id)",
  `create table usage_hourly (
    tenant_id text not null,
    model_id text not null,
    hour timestamptz not null,
    requests bigint not null default 0,
    items bigint not null default 0,
    compute_ms bigint not null default 0,
    cost_micros bigint not null default 0,
    updated_at timestamptz not null default now(),
    primary key (tenant_id, model_id, hour)
  )`,
  `create table invoices (
    id text primary key check (id ~ '^inv_[0-9a-z]+$'),
    tenant_id text not null references tenants (id) on delete cascade,
    period text not null check (period ~ ${PERIOD}),
    status text not null default 'issued' check (status in ('issued', 'paid', 'void')),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    requests bigint not null check (requests >= 0),
    total_micros bigint not null check (total_micros >= 0),
    period_start timestamptz not null,
    period_end timestamptz not null,
    issued_at timestamptz not null default now(),
    -- one invoice per tenant and period, whoever closes it and however often
    unique (tenant_id, period),
    unique (tenant_id, id)
  )`,
  `create table invoice_lines (
    id bigserial primary key,
    tenant_id text not null,
    invoice_id text not null,
    model_id text not null,
    description text not null,
    quantity bigint not null check (quantity >= 0),
    compute_ms bigint not null check (compute_ms >= 0),
    unit_price_micros bigint not null check (unit_price_micros >= 0),
    amount_micros bigint not null check (amount_micros >= 0),
    unique (invoice_id, model_id),
    foreign key (tenant_id, invoice_id) references invoices (tenant_id, id) on delete cascade
  )`,
  "create index invoice_lines_tenant_id_idx on invoice_lines (tenant_id)",
  `create table webhooks (
    id text primary key check (id ~ '^whk_[0-9a-z]+$'),
    tenant_id text not null references tenants (id) on delete cascade,
    url text not null check (url ~ '^https?://' and length(url) <= 2000),
    -- Standard Webhooks secret (whsec_<base64>); the tenant role cannot read this column (see grants)
    secret text not null check (secret ~ '^whsec_[A-Za-z0-9+/=]+$'),
    -- event types delivered; empty = all
    event_types jsonb not null default '[]'::jsonb check (jsonb_typeof(event_types) = 'array'),
    description text check (length(description) <= 500),
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id)
  )`,
  `create table webhook_deliveries (
    id bigserial primary key,
    tenant_id text not null,
    webhook_id text not null,
    event_id text not null,
    event_type text not null,
    payload jsonb not null,
    status text not null default 'pending' check (status in ('pending', 'retrying', 'delivered', 'dead')),
    attempts integer not null default 0 check (attempts >= 0),
    last_status_code integer,
    last_error text,
    next_attempt_at timestamptz,
    delivered_at timestamptz,
    dead_lettered_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- a redelivered event enqueues nothing new
    unique (webhook_id, event_id),
    foreign key (tenant_id, webhook_id) references webhooks (tenant_id, id) on delete cascade
  )`,
  "create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status in ('pending', 'retrying')",
  "create index webhook_deliveries_tenant_idx on webhook_deliveries (tenant_id, webhook_id, id)",
];

/** Table → privileges of maas_app (every table filtered on tenant_id). */
const ISOLATION: [table: string, appPrivileges: string][] = [
  // Usage and invoices are written by metering and billing (system role) only.
  ["usage_events", "select"],
  ["usage_hourly", "select"],
  ["invoices", "select"],
  ["invoice_lines", "select"],
  // Every column but `secret`: the secret is shown once, at creation, and never read back.
  [
    "webhooks",
    "select (id, tenant_id, url, event_types, description, active, created_at, updated_at), insert, update, delete",
  ],
  ["webhook_deliveries", "select"],
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

// Prices: a tenant reads the plan prices and its own overrides; only the system role writes.
const PRICES = [
  "alter table prices enable row level security",
  "alter table prices force row level security",
  `create policy prices_tenant_read on prices for select to ${APP}
     using (tenant_id is null or tenant_id = ${CURRENT_TENANT})`,
  `create policy prices_system_all on prices for all to ${SYSTEM}
     using ((select current_user) = '${SYSTEM}') with check ((select current_user) = '${SYSTEM}')`,
  `grant select on prices to ${APP}`,
  `grant select, insert, update, delete on prices to ${SYSTEM}`,
  `grant usage on sequence prices_id_seq, invoice_lines_id_seq, webhook_deliveries_id_seq to ${SYSTEM}`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  // One statement per call: PGlite's extended-protocol query accepts a single statement.
  const statements = [
    ...TABLES,
    ...ISOLATION.flatMap(([table, privileges]) => isolation(table, privileges)),
    ...PRICES,
  ];
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      "drop table if exists webhook_deliveries, webhooks, invoice_lines, invoices, usage_hourly, usage_events, prices",
    )
    .execute(db);
}
