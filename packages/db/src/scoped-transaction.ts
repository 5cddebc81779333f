import { AppError } from "@maas/errors";
import { type Kysely, sql, type Transaction } from "kysely";
import type { Database } from "./database.js";
import { tenantIdSchema } from "./ids.js";
import { DB_ROLES, TENANT_SETTING } from "./roles.js";

export type ScopedWork<T> = (trx: Transaction<Database>) => Promise<T>;

/**
 * Runs `fn` in one transaction scoped to one tenant: the role is `maas_app` (no BYPASSRLS) and
 * `app.tenant_id` is the tenant, both transaction-local, so row-level security shows and accepts
 * only that tenant's rows whatever the query, and nothing survives into the pooled connection's
 * next user. The role switch is what makes RLS apply at all on PGlite, whose session user is a
 * superuser.
 *
 * Use only `trx` inside `fn`. On PGlite, using the outer `db` there waits for the very session
 * this transaction holds (deadlock); on Postgres it would run outside the tenant scope.
 *
 * @example
 * const keys = await withTenant(db, tenantId, (trx) =>
 *   trx.selectFrom("api_keys").selectAll().where("revoked_at", "is", null).execute(),
 * );
 */
export async function withTenant<T>(db: Kysely<Database>, tenantId: string, fn: ScopedWork<T>): Promise<T> {
  const parsed = tenantIdSchema.safeParse(tenantId);
  if (!parsed.success) {
    throw new AppError("VALIDATION_FAILED", "invalid tenant id", { details: { tenantId } });
  }
  return scoped(db, fn, async (trx) => {
    // set_config('role', …, true) is exactly SET LOCAL ROLE (role is a setting), and lets the role
    // and the tenant go in one round trip with the tenant bound as a parameter.
    await sql`select set_config('role', ${DB_ROLES.app}, true), set_config(${TENANT_SETTING}, ${parsed.data}, true)`.execute(
      trx,
    );
  });
}

/**
 * Runs `fn` in one transaction as `maas_system`, whose policies show every tenant's rows: for
 * system jobs (metering, billing, outbox relay) and operator actions such as creating tenants.
 *
 * @example
 * await withSystem(db, (trx) =>
 *   trx.insertInto("tenants").values({ id: newId("tnt"), slug: "acme", name: "Acme" }).execute(),
 * );
 */
export async function withSystem<T>(db: Kysely<Database>, fn: ScopedWork<T>): Promise<T> {
  return scoped(db, fn, async (trx) => {
    await sql`set local role ${sql.raw(DB_ROLES.system)}`.execute(trx);
  });
}

async function scoped<T>(
  db: Kysely<Database>,
  fn: ScopedWork<T>,
  enter: (trx: Transaction<Database>) => Promise<void>,
): Promise<T> {
  if (db.isTransaction) {
    // Nesting would silently keep the outer scope (kysely has no nested transactions).
    throw new Error("withTenant/withSystem need the root Kysely instance, not a transaction");
  }
  return db.transaction().execute(async (trx) => {
    await enter(trx);
    return fn(trx);
  });
}
