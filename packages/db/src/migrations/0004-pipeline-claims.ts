import { type Kysely, sql } from "kysely";

// A migration is a frozen snapshot: it must keep producing the same schema forever, so it uses no
// helper or constant from the rest of the package (those may change; this file must not).
//
// The pipeline claims a version (`uploaded` → `validating`) before processing it. A claim used to
// be only the status, so a pipeline instance that died mid-run left the version `validating`
// forever. The claim now carries when it was taken (to tell a live claim from a stale one) and how
// many times validation was started (a fencing token, and the bound on retrying a model that keeps
// killing the instances processing it). The existing table-level grants cover the new columns.

const STATEMENTS = [
  "alter table model_versions add column validation_started_at timestamptz",
  `alter table model_versions add column validation_attempts integer not null default 0
    check (validation_attempts >= 0)`,
  // A claim taken before this migration has no start time: count it from now, so an instance still
  // working on it is not overtaken at once, and a dead one is after the stale age.
  "update model_versions set validation_started_at = now() where status = 'validating'",
  // The pipeline's sweep: "claims older than the stale age", across tenants; few rows are validating.
  `create index model_versions_validating_idx on model_versions (validation_started_at)
    where status = 'validating'`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  // One statement per call: PGlite's extended-protocol query accepts a single statement.
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Dropping validation_started_at drops its index too.
  await sql
    .raw(
      "alter table model_versions drop column if exists validation_attempts, drop column if exists validation_started_at",
    )
    .execute(db);
}
