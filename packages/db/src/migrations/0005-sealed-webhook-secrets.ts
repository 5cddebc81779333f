import { type Kysely, sql } from "kysely";

// A migration is a frozen snapshot: it must keep producing the same schema forever, so it uses no
// helper or constant from the rest of the package (those may change; this file must not).
//
// Webhook signing secrets may now be stored sealed (AES-256-GCM under SECRETS_KEY, the row id as
// associated data: `sealed:v1:<key id>:<iv>:<ciphertext+tag>`), besides the plain `whsec_…` of rows
// written without a key. The column's check accepts both shapes and nothing else.

const STATEMENTS = [
  "alter table webhooks drop constraint webhooks_secret_check",
  `alter table webhooks add constraint webhooks_secret_check check (
    secret ~ '^whsec_[A-Za-z0-9+/=]+$' or secret ~ '^sealed:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$')`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  // One statement per call: PGlite's extended-protocol query accepts a single statement.
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Fails while sealed rows exist: they cannot be turned back into plain text without the key.
  await sql.raw("alter table webhooks drop constraint webhooks_secret_check").execute(db);
  await sql
    .raw(
      "alter table webhooks add constraint webhooks_secret_check check (secret ~ '^whsec_[A-Za-z0-9+/=]+$')",
    )
    .execute(db);
}
