import type { Principal } from "@maas/auth";
import { type Database, withTenant } from "@maas/db";
import { AppError } from "@maas/errors";
import type { Kysely, Transaction } from "kysely";

/** Who is acting, in which tenant, for which request: what every write records in the audit log. */
export interface RequestScope {
  tenantId: string;
  /** The audit log's actor: `key_…` for an API key, `jwt:<sub>` for a person. */
  actor: string;
  requestId: string | null;
  principal: Principal;
}

/** The audit actor of a principal; a JWT subject is marked so it cannot pass for a key id. */
export function actorOf(principal: Principal): string {
  return principal.kind === "api_key" ? principal.keyId : `jwt:${principal.subject}`;
}

/** What the scope needs from a Hono context: the variables authenticate() and requestId() set. */
export interface ScopedContext {
  readonly var: { readonly principal: Principal; readonly requestId: string };
}

/**
 * The request's tenant scope. A principal without a tenant (an operator token) never reaches a
 * tenant route: requirePermission refuses it first, so reaching here without one is a wiring bug.
 */
export function requestScope(c: ScopedContext): RequestScope {
  const principal = c.var.principal;
  if (principal === undefined) throw new Error("no principal: authenticate() must run before this route");
  if (principal.tenantId === null) throw new AppError("FORBIDDEN", "this route needs a tenant");
  return {
    tenantId: principal.tenantId,
    actor: actorOf(principal),
    requestId: c.var.requestId ?? null,
    principal,
  };
}

/**
 * Runs tenant work in one row-level-secured transaction for the request's tenant. Another tenant's
 * rows are invisible inside, so looking one up yields "not found" (404), never "forbidden".
 *
 * @example
 * const models = await inTenant(db, c, (trx) => trx.selectFrom("models").selectAll().execute());
 */
export function inTenant<T>(
  db: Kysely<Database>,
  c: ScopedContext,
  fn: (trx: Transaction<Database>, scope: RequestScope) => Promise<T>,
): Promise<T> {
  const scope = requestScope(c);
  return withTenant(db, scope.tenantId, (trx) => fn(trx, scope));
}
