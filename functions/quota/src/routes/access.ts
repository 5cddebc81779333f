import { can, type Permission } from "@maas/auth";
import { AppError } from "@maas/errors";
import type { Context } from "hono";
import type { QuotaEnv } from "../services.js";

/**
 * Operators reach every tenant; a tenant principal reaches only its own tenant, with `permission`.
 * Another tenant is a 404 (not 403): the answer never confirms that a tenant id exists.
 */
export function authorizeTenant(
  c: Context<QuotaEnv>,
  tenantId: string,
  permission: Permission | "operator",
): void {
  const principal = c.get("principal");
  if (principal.operator) return;
  if (principal.tenantId !== tenantId) throw new AppError("NOT_FOUND", `tenant ${tenantId} not found`);
  if (permission === "operator" || !can(principal.role, permission)) {
    throw new AppError(
      "FORBIDDEN",
      permission === "operator" ? "platform operators only" : `lacks permission ${permission}`,
    );
  }
}
