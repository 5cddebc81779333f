import type { Principal } from "@maas/auth";
import { AppError } from "@maas/errors";
import type { Context } from "hono";
import type { Route } from "../routing/route-resolver.js";
import type { GatewayEnv, GatewayServices } from "../services.js";

/**
 * The tenant's route for `/v2/models/{name}[/versions/{v}]`. Everything that is not a ready model
 * of the caller's own tenant is the same 404 (another tenant's name, an unknown name, a bad version,
 * a principal without a tenant): the answer never tells whether a name exists elsewhere.
 */
export function resolveRoute(
  c: Context<GatewayEnv>,
  services: GatewayServices,
): Promise<{ tenantId: string; route: Route }> {
  return resolveTenantRoute(services, c.get("principal"), c.req.param("name") ?? "", c.req.param("version"));
}

/** resolveRoute from its parts (the native infer path has no Hono context). */
export async function resolveTenantRoute(
  services: GatewayServices,
  principal: Principal | undefined,
  name: string,
  versionParam: string | undefined,
): Promise<{ tenantId: string; route: Route }> {
  const notFound = () =>
    new AppError(
      "NOT_FOUND",
      `model ${name}${versionParam === undefined ? "" : ` version ${versionParam}`} not found`,
    );
  if (principal?.tenantId == null) throw notFound();
  let version: number | undefined;
  if (versionParam !== undefined) {
    if (!/^[1-9][0-9]{0,8}$/.test(versionParam)) throw notFound();
    version = Number(versionParam);
  }
  const route = await services.routes.resolve(principal.tenantId, name, version);
  if (route === null) throw notFound();
  return { tenantId: principal.tenantId, route };
}

/** The upstream path: always pinned to the version the gateway resolved. */
export function upstreamPath(route: Route, suffix: "" | "/ready" | "/infer"): string {
  return `/v2/models/${encodeURIComponent(route.modelName)}/versions/${route.version}${suffix}`;
}
