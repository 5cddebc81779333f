import { describe, expect, it } from "vitest";
import {
  can,
  canGrant,
  PERMISSIONS,
  type Permission,
  roleRank,
  TENANT_ROLES,
  type TenantRole,
} from "./rbac.js";

// The matrix written out by hand (not derived from the code under test): a change to the table in
// rbac.ts must change this one too, on purpose.
const EXPECTED: Record<Permission, Record<TenantRole, boolean>> = {
  "keys:read": { owner: true, admin: true, developer: false, viewer: false },
  "keys:write": { owner: true, admin: true, developer: false, viewer: false },
  "members:read": { owner: true, admin: true, developer: false, viewer: false },
  "members:write": { owner: true, admin: false, developer: false, viewer: false },
  "models:read": { owner: true, admin: true, developer: true, viewer: true },
  "models:write": { owner: true, admin: true, developer: true, viewer: false },
  "uploads:write": { owner: true, admin: true, developer: true, viewer: false },
  "deployments:read": { owner: true, admin: true, developer: true, viewer: true },
  "deployments:write": { owner: true, admin: true, developer: true, viewer: false },
  "audit:read": { owner: true, admin: true, developer: false, viewer: false },
  "quotas:read": { owner: true, admin: true, developer: true, viewer: true },
  "quotas:write": { owner: false, admin: false, developer: false, viewer: false },
  "usage:read": { owner: true, admin: true, developer: true, viewer: true },
  "billing:read": { owner: true, admin: true, developer: false, viewer: false },
};

describe("RBAC", () => {
  it("the expected matrix covers every permission", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...PERMISSIONS].sort());
  });

  for (const permission of PERMISSIONS) {
    for (const role of TENANT_ROLES) {
      it(`${role} ${EXPECTED[permission][role] ? "has" : "lacks"} ${permission}`, () => {
        expect(can(role, permission)).toBe(EXPECTED[permission][role]);
      });
    }
  }

  it("no role holds anything", () => {
    for (const permission of PERMISSIONS) {
      expect(can(null, permission)).toBe(false);
      expect(can(undefined, permission)).toBe(false);
    }
  });

  it("each role holds everything the role below it holds (owner > admin > developer > viewer)", () => {
    expect([...TENANT_ROLES]).toEqual(["owner", "admin", "developer", "viewer"]);
    for (let i = 0; i + 1 < TENANT_ROLES.length; i++) {
      const higher = TENANT_ROLES[i] as TenantRole;
      const lower = TENANT_ROLES[i + 1] as TenantRole;
      expect(roleRank(higher)).toBeLessThan(roleRank(lower));
      for (const permission of PERMISSIONS)
        if (can(lower, permission)) expect(can(higher, permission)).toBe(true);
      expect(
        PERMISSIONS.some((p) => can(higher, p) && !can(lower, p)),
        `${higher} vs ${lower}`,
      ).toBe(true);
    }
  });

  it("a role hands out only roles at or below itself", () => {
    expect(canGrant("owner", "owner")).toBe(true);
    expect(canGrant("admin", "owner")).toBe(false);
    expect(canGrant("admin", "admin")).toBe(true);
    expect(canGrant("admin", "viewer")).toBe(true);
    expect(canGrant("developer", "admin")).toBe(false);
    expect(canGrant("viewer", "viewer")).toBe(true);
    expect(canGrant(null, "viewer")).toBe(false);
  });
});
