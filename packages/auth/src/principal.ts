import type { TenantRole } from "@maas/db";

/** A caller authenticated by an API key: always inside exactly one tenant, with the key's role. */
export interface ApiKeyPrincipal {
  kind: "api_key";
  tenantId: string;
  role: TenantRole;
  /** `key_…` */
  keyId: string;
  /** Who to name in the audit log: the key id. */
  subject: string;
  operator: false;
}

/**
 * A caller authenticated by a JWT from the identity provider. `role` is the subject's membership
 * in the token's tenant; an operator token may carry no tenant (or one it is no member of), and
 * then has no tenant role and reaches only operator routes.
 */
export interface JwtPrincipal {
  kind: "jwt";
  tenantId: string | null;
  role: TenantRole | null;
  /** The token's `sub`. */
  subject: string;
  /** The configured platform-role claim said "operator". */
  operator: boolean;
}

export type Principal = ApiKeyPrincipal | JwtPrincipal;

/**
 * Why a credential was refused. UNAUTHENTICATED (401): missing, malformed, wrong, expired or
 * revoked credentials, or a suspended tenant. FORBIDDEN (403): a valid identity that grants nothing
 * here (a JWT subject that is no member of the token's tenant).
 */
export interface AuthFailure {
  ok: false;
  code: "UNAUTHENTICATED" | "FORBIDDEN";
  /** Safe to show the caller: says nothing a caller without the secret could use. */
  message: string;
  /** Machine-readable cause, for logs and tests. */
  reason: AuthFailureReason;
}

export type AuthFailureReason =
  | "missing"
  | "malformed"
  | "unknown_key"
  | "wrong_secret"
  | "revoked"
  | "tenant_inactive"
  | "invalid_token"
  | "expired"
  | "jwt_not_configured"
  | "not_member"
  | "no_tenant";

export type VerifyResult = { ok: true; principal: Principal } | AuthFailure;

export function unauthenticated(reason: AuthFailureReason, message: string): AuthFailure {
  return { ok: false, code: "UNAUTHENTICATED", reason, message };
}

export function forbidden(reason: AuthFailureReason, message: string): AuthFailure {
  return { ok: false, code: "FORBIDDEN", reason, message };
}
