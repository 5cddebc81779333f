import { canGrant, type Principal, type TenantRole } from "@maas/auth";
import { AppError } from "@maas/errors";

/** 403 unless the caller's role is at least `target`: nobody mints a key or member above themselves. */
export function assertCanGrant(principal: Principal, target: TenantRole): void {
  if (!canGrant(principal.role, target)) {
    throw new AppError("FORBIDDEN", `role ${principal.role ?? "none"} cannot grant role ${target}`, {
      details: { role: principal.role, requested: target },
    });
  }
}
