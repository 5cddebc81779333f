import { type Kysely, sql } from "kysely";

// A migration is a frozen snapshot: it must keep producing the same schema forever, so it uses no
// helper or constant from the rest of the package (those may change; this file must not).

const APP = "maas_app";
const SYSTEM = "maas_system";
// The sub-select makes Postgres evaluate the setting once per query (an InitPlan), not once per row;
// `true` = missing_ok, so a transaction that never set a tenant compares with NULL and sees nothing.
const CURRENT_TENANT = "(select current_setting('app.tenant_id', true))";
const ROLE_CHECK = "role in ('owner', 'admin', 'developer', 'viewer')";

const ROLES = `
do $$
begin
  -- Roles are cluster-wide and may already exist (shared server, other databases, or created by an
  -- operator for an owner without CREATEROLE): look first, and tolerate a concurrent migration
  -- creating them at the same moment.
  if not exists (select 1 from pg_roles where rolname = '${APP}') then
    begin
      create role ${APP} nologin nosuperuser nobypassrls nocreatedb nocreaterole;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  if not exists (select 1 from pg_roles where rolname = '${SYSTEM}') then
    begin
      create role ${SYSTEM} nologin nosuperuser nobypassrls nocreatedb nocreaterole;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  if exists (select 1 from pg_roles where rolname in ('${APP}', '${SYSTEM}') and (rolsuper or rolbypassrls)) then
    raise exception 'roles ${APP} and ${SYSTEM} must not be superuser nor bypass row-level security';
  end if;
end
$$`;

// A superuser may SET ROLE to anything; any other owner must be a member (with SET, on PG 16+).
const MEMBERSHIP = `
do $$
declare
  r text;
  needed text := case when current_setting('server_version_num')::int >= 160000 then 'SET' else 'MEMBER' end;
begin
  if not (select rolsuper from pg_roles where rolname = current_user) then
    foreach r in array array['${APP}', '${SYSTEM}'] loop
      if not pg_has_role(current_user, r, needed) then
        begin
          execute format('grant %I to %I', r, current_user);
        exception when insufficient_privilege then
          raise exception 'the migrating user % cannot grant itself role %', current_user, r
            using hint = format('ask a superuser to run: grant %I to %I', r, current_user);
        end;
      end if;
    end loop;
  end if;
end
$$`;

const TABLES = [
  `create table tenants (
    id text primary key check (id ~ '^tnt_[0-9a-z]+$'),
    -- also the Kubernetes namespace suffix (tenant-<slug>): a DNS label
    slug text not null unique check (slug ~ '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'),
    name text not null check (length(name) between 1 and 200),
    plan text not null default 'free',
    status text not null default 'active' check (status in ('active', 'suspended', 'deleted')),
    created_at timestamptz not null default now()
  )`,
  `create table quotas (
    tenant_id text primary key references tenants (id) on delete cascade,
    max_models integer not null default 10 check (max_models >= 0),
    max_storage_bytes bigint not null default 10737418240 check (max_storage_bytes >= 0),
    max_qps integer not null default 10 check (max_qps >= 0),
    max_concurrency integer not null default 4 check (max_concurrency >= 0),
    monthly_budget_micros bigint not null default 100000000 check (monthly_budget_micros >= 0),
    updated_at timestamptz not null default now()
  )`,
  `create table api_keys (
    id text primary key check (id ~ '^key_[0-9a-z]+$'),
    tenant_id text not null references tenants (id) on delete cascade,
    prefix text not null unique,
    hash text not null,
    role text not null check (${ROLE_CHECK}),
    name text not null,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz
  )`,
  "create index api_keys_tenant_id_idx on api_keys (tenant_id)",
  `create table members (
    id text primary key check (id ~ '^mem_[0-9a-z]+$'),
    tenant_id text not null references tenants (id) on delete cascade,
    subject text not null,
    role text not null check (${ROLE_CHECK}),
    created_at timestamptz not null default now(),
    -- also serves as the tenant_id index (leading column)
    unique (tenant_id, subject)
  )`,
  `create table audit_log (
    id bigserial primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    actor text not null,
    action text not null,
    target text,
    details jsonb not null default '{}'::jsonb,
    request_id text,
    created_at timestamptz not null default now()
  )`,
  // (tenant_id, id): the tenant filter plus newest-first pagination in one index
  "create index audit_log_tenant_id_idx on audit_log (tenant_id, id)",
  // No foreign key on tenant_id: an event about a tenant (even its deletion) must still be relayed.
  `create table outbox (
    id bigserial primary key,
    event_id text not null unique,
    tenant_id text,
    topic text not null,
    event jsonb not null,
    created_at timestamptz not null default now(),
    published_at timestamptz
  )`,
  "create index outbox_unpublished_idx on outbox (id) where published_at is null",
  "create index outbox_tenant_id_idx on outbox (tenant_id)",
];

/** Table → [column compared with the current tenant, privileges of maas_app]. */
const ISOLATION: [table: string, column: string, appPrivileges: string][] = [
  // Creating, renaming or suspending a tenant is an operator/system action, not a tenant's.
  ["tenants", "id", "select"],
  ["quotas", "tenant_id", "select"],
  ["api_keys", "tenant_id", "select, insert, update, delete"],
  ["members", "tenant_id", "select, insert, update, delete"],
  // Append-only for tenants.
  ["audit_log", "tenant_id", "select, insert"],
  ["outbox", "tenant_id", "select, insert"],
];

function isolation(table: string, column: string, appPrivileges: string): string[] {
  return [
    `alter table ${table} enable row level security`,
    // FORCE: the owner is subject to the policies too (it has none, so it sees nothing unless
    // superuser); only the roles below get rows.
    `alter table ${table} force row level security`,
    `create policy ${table}_tenant_isolation on ${table} for all to ${APP}
       using (${column} = ${CURRENT_TENANT}) with check (${column} = ${CURRENT_TENANT})`,
    // The current_user test keeps this policy to sessions that switched to maas_system: a role that
    // merely inherits it (a non-superuser owner is granted membership so it can SET ROLE) gets no
    // rows from it, so forgetting withTenant/withSystem still returns nothing.
    `create policy ${table}_system_all on ${table} for all to ${SYSTEM}
       using ((select current_user) = '${SYSTEM}') with check ((select current_user) = '${SYSTEM}')`,
    `grant ${appPrivileges} on ${table} to ${APP}`,
    `grant select, insert, update, delete on ${table} to ${SYSTEM}`,
  ];
}

const GRANTS = [
  `grant usage on schema public to ${APP}, ${SYSTEM}`,
  `grant usage on sequence audit_log_id_seq, outbox_id_seq to ${APP}, ${SYSTEM}`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  // One statement per call: PGlite's extended-protocol query accepts a single statement.
  const statements = [
    ROLES,
    MEMBERSHIP,
    ...TABLES,
    ...ISOLATION.flatMap(([table, column, privileges]) => isolation(table, column, privileges)),
    ...GRANTS,
  ];
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The roles stay: they are cluster-wide and other databases on the server may use them.
  for (const statement of [
    "drop table if exists outbox, audit_log, members, api_keys, quotas, tenants",
    `revoke usage on schema public from ${APP}, ${SYSTEM}`,
  ]) {
    await sql.raw(statement).execute(db);
  }
}
