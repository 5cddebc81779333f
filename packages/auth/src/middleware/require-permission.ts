import { AppError } from "@maas/errors";
import type { MiddlewareHandler } from "hono";
import { can, type Permission } from "../rbac.js";
import { type AuthEnv, principalOf } from "./auth-env.js";

/**
 * Lets the request through only when the principal's tenant role holds `permission`; otherwise
 * 403 FORBIDDEN. Runs after authenticate(). An operator without a tenant role holds no tenant
 * permission: operator routes use requireOperator().
 *
 * @example
 * app.post("/v1/models", requirePermission("models:write"), createModel);
 */
export function requirePermission(permission: Permission): MiddlewareHandler<AuthEnv> {
  return async function requirePermissionMiddleware(c, next) {
    const principal = principalOf(c);
    if (!can(principal.role, permission)) {
      throw new AppError(
        "FORBIDDEN",
        principal.role === null
          ? `permission ${permission} needs a role in a tenant`
          : `role ${principal.role} lacks permission ${permission}`,
        { details: { permission, role: principal.role } },
      );
    }
    await next();
  };
}

/**
 * Lets only platform operators through (JWTs whose platform-role claim says operator); 403
 * otherwise. API keys are never operators: they belong to one tenant.
 *
 * @example
 * app.post("/v1/tenants", requireOperator(), createTenant);
 */
export function requireOperator(): MiddlewareHandler<AuthEnv> {
  return async function requireOperatorMiddleware(c, next) {
    if (!principalOf(c).operator) throw new AppError("FORBIDDEN", "platform operators only");
    await next();
  };
}
