import { type Database, type TenantRole, type TenantStatus, tenantIdSchema, withTenant } from "@maas/db";
import type { Kysely } from "kysely";
import { forbidden, unauthenticated, type VerifyResult } from "../principal.js";
import type { JwtIdentity, JwtVerifier } from "./jwt-verifier.js";

/** A subject's standing in one tenant. */
export interface Membership {
  /** null: the tenant does not exist (or is not visible). */
  tenantStatus: TenantStatus | null;
  /** null: the subject is no member. */
  role: TenantRole | null;
}

/**
 * Reads the subject's role in the tenant, inside that tenant's scope (row-level security applies;
 * the app role may read its own tenant row and members).
 *
 * @example
 * const { role } = await lookupMembership(db, "tnt_…", "auth0|123");
 */
export async function lookupMembership(
  db: Kysely<Database>,
  tenantId: string,
  subject: string,
): Promise<Membership> {
  const row = await withTenant(db, tenantId, (trx) =>
    trx
      .selectFrom("tenants")
      .leftJoin("members", (join) =>
        join.onRef("members.tenant_id", "=", "tenants.id").on("members.subject", "=", subject),
      )
      .select(["tenants.status", "members.role"])
      .where("tenants.id", "=", tenantId)
      .executeTakeFirst(),
  );
  return { tenantStatus: row?.status ?? null, role: row?.role ?? null };
}

/**
 * Turns a verified token identity into a principal. Decisions (documented for every route):
 * - tenant suspended or deleted → 401, as for API keys;
 * - tenant unknown, subject no member, or no tenant claim → 403 FORBIDDEN: the token is valid (a
 *   401 would send a CLI into a login loop) but grants nothing here; unknown and not-a-member look
 *   the same so a token cannot probe which tenants exist;
 * - a platform operator is let through in those cases with no tenant role: operator routes work,
 *   tenant routes answer 403 from requirePermission.
 */
export function principalFromMembership(identity: JwtIdentity, membership: Membership | null): VerifyResult {
  const { subject, tenantId, operator } = identity;
  if (membership?.tenantStatus === "suspended" || membership?.tenantStatus === "deleted") {
    if (!operator) return unauthenticated("tenant_inactive", `tenant ${membership.tenantStatus}`);
    return { ok: true, principal: { kind: "jwt", subject, tenantId, role: null, operator } };
  }
  const role = membership?.role ?? null;
  if (role === null && !operator) {
    return tenantId === null
      ? forbidden("no_tenant", "token names no tenant")
      : forbidden("not_member", `${subject} is not a member of tenant ${tenantId}`);
  }
  return { ok: true, principal: { kind: "jwt", subject, tenantId, role, operator } };
}

/**
 * Resolves a verified token identity to a principal: the tenant claim must be a tenant id, then
 * the subject's membership decides (see principalFromMembership).
 */
export async function resolveJwtIdentity(db: Kysely<Database>, identity: JwtIdentity): Promise<VerifyResult> {
  if (identity.tenantId === null) return principalFromMembership(identity, null);
  if (!tenantIdSchema.safeParse(identity.tenantId).success) {
    return unauthenticated("invalid_token", "tenant claim is not a tenant id");
  }
  return principalFromMembership(identity, await lookupMembership(db, identity.tenantId, identity.subject));
}

/**
 * Verifies a JWT and resolves its subject's role, uncached.
 *
 * @example
 * const result = await verifyJwt(db, jwtVerifier, token);
 */
export async function verifyJwt(
  db: Kysely<Database>,
  jwt: JwtVerifier,
  token: string,
): Promise<VerifyResult> {
  const verified = await jwt.verify(token);
  return verified.ok ? resolveJwtIdentity(db, verified.identity) : verified;
}
