import type { TwoLevelCache } from "@maas/cache";
import { type Database, withSystem, withTenant } from "@maas/db";
import type { Kysely } from "kysely";

/** Where a tenant's model (version) is served: a ready deployment. */
export interface Route {
  deploymentId: string;
  modelId: string;
  versionId: string;
  /** The tenant's model name, as the inference service serves it (MODEL_NAME). */
  modelName: string;
  version: number;
  /** The inference service's base URL (Knative Service URL). */
  url: string;
}

/** Resolves (tenant, model name[, version]) to a ready deployment; null: nothing the tenant can call. */
export interface RouteResolver {
  resolve(tenantId: string, modelName: string, version?: number): Promise<Route | null>;
}

/** How long "no such model" is remembered: short, so a fresh deployment is seen quickly. */
const NEGATIVE_TTL_MS = 1_000;

export function routeKey(tenantId: string, modelName: string, version?: number): string {
  return `${tenantId}/${modelName}/${version ?? ""}`;
}

/**
 * Reads the `deployments` table inside the tenant's scope (RLS: another tenant's rows are
 * invisible, so another tenant's model name resolves to nothing → 404), through the two-level cache.
 * Without a version: the highest version with a ready deployment.
 *
 * @example
 * const routes = createRouteResolver({ db, cache });
 * const route = await routes.resolve(principal.tenantId, "resnet");
 */
export function createRouteResolver(options: {
  db: Kysely<Database>;
  cache: TwoLevelCache<Route | null>;
}): RouteResolver & { warm(): Promise<number> } {
  const { db, cache } = options;

  async function load(tenantId: string, modelName: string, version?: number): Promise<Route | null> {
    const row = await withTenant(db, tenantId, (trx) => {
      let q = trx
        .selectFrom("deployments as d")
        .innerJoin("models as m", "m.id", "d.model_id")
        .innerJoin("model_versions as v", "v.id", "d.version_id")
        .select(["d.id", "d.model_id", "d.version_id", "d.url", "m.name", "v.version"])
        .where("m.name", "=", modelName)
        .where("m.deleted_at", "is", null)
        .where("d.status", "=", "ready")
        .where("d.url", "is not", null);
      if (version !== undefined) q = q.where("v.version", "=", version);
      return q.orderBy("v.version", "desc").orderBy("d.updated_at", "desc").limit(1).executeTakeFirst();
    });
    if (!row || row.url === null) return null;
    return {
      deploymentId: row.id,
      modelId: row.model_id,
      versionId: row.version_id,
      modelName: row.name,
      version: row.version,
      url: row.url,
    };
  }

  return {
    async resolve(tenantId, modelName, version) {
      const route = await cache.getOrLoad(routeKey(tenantId, modelName, version), async () => {
        const value = await load(tenantId, modelName, version);
        return { value, ...(value === null && { ttlMs: NEGATIVE_TTL_MS }) };
      });
      return route ?? null;
    },
    /** Loads the unversioned route of every ready deployment (the active tenants) into the cache. */
    async warm() {
      const rows = await withSystem(db, (trx) =>
        trx
          .selectFrom("deployments as d")
          .innerJoin("models as m", "m.id", "d.model_id")
          .select(["d.tenant_id", "m.name"])
          .where("d.status", "=", "ready")
          .where("m.deleted_at", "is", null)
          .distinct()
          .execute(),
      );
      const keys = rows.map((r) => routeKey(r.tenant_id, r.name));
      return cache.warm(keys, async (key) => {
        const [tenantId = "", name = ""] = key.split("/");
        return { value: await load(tenantId, name) };
      });
    },
  };
}
