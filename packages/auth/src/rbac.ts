import { TENANT_ROLES, type TenantRole } from "@maas/db";

export { TENANT_ROLES, type TenantRole };

/** Every permission a tenant route can require, `<resource>:<read|write>`. */
export const PERMISSIONS = [
  "keys:read",
  "keys:write",
  "members:read",
  "members:write",
  "models:read",
  "models:write",
  "uploads:write",
  "deployments:read",
  "deployments:write",
  "audit:read",
  "quotas:read",
  "quotas:write",
  "usage:read",
  "billing:read",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

const VIEWER: readonly Permission[] = ["models:read", "deployments:read", "quotas:read", "usage:read"];
const DEVELOPER: readonly Permission[] = [...VIEWER, "models:write", "uploads:write", "deployments:write"];
const ADMIN: readonly Permission[] = [
  ...DEVELOPER,
  "keys:read",
  "keys:write",
  "members:read",
  "audit:read",
  "billing:read",
];
// Only an owner changes who is a member and with which role: an admin who could would make itself
// owner. Quota changes stay with platform operators (DESIGN §1: operators set plans and quotas),
// so `quotas:write` belongs to no tenant role; operator routes use requireOperator() instead.
const OWNER: readonly Permission[] = [...ADMIN, "members:write"];

/** The permission table: each role holds everything the role below it holds, and more. */
export const ROLE_PERMISSIONS: Readonly<Record<TenantRole, ReadonlySet<Permission>>> = Object.freeze({
  owner: new Set(OWNER),
  admin: new Set(ADMIN),
  developer: new Set(DEVELOPER),
  viewer: new Set(VIEWER),
});

/**
 * Whether a tenant role holds a permission. No role (an operator outside any tenant) holds none.
 *
 * @example
 * can("developer", "models:write"); // true
 * can("viewer", "keys:write"); // false
 */
export function can(role: TenantRole | null | undefined, permission: Permission): boolean {
  return role != null && ROLE_PERMISSIONS[role].has(permission);
}

/** 0 = owner (most privileged) … 3 = viewer. */
export function roleRank(role: TenantRole): number {
  return TENANT_ROLES.indexOf(role);
}

/**
 * Whether `actor` may hand out `target` (create a key or add a member with that role): never a role
 * above one's own, so nobody escalates through a key they mint.
 *
 * @example
 * canGrant("admin", "developer"); // true
 * canGrant("admin", "owner"); // false
 */
export function canGrant(actor: TenantRole | null | undefined, target: TenantRole): boolean {
  return actor != null && roleRank(actor) <= roleRank(target);
}
