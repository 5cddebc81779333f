import type { Hono } from "hono";
import type { QuotaEnv, QuotaServices } from "../services.js";
import { authorizeTenant } from "./access.js";
import { quotasJson } from "./v1-tenant-quotas.js";

/**
 * `GET /v1/tenants/{tenant}/usage`: current QPS and in-flight against their limits, month-to-date
 * spend against the budget, models and storage against theirs.
 *
 * @example
 * registerV1TenantUsage(app, services);
 */
export function registerV1TenantUsage(app: Hono<QuotaEnv>, services: QuotaServices): void {
  app.get("/v1/tenants/:tenantId/usage", async (c) => {
    const tenantId = c.req.param("tenantId");
    authorizeTenant(c, tenantId, "usage:read");
    const [quotas, qps, inFlight, spent, held] = await Promise.all([
      services.store.get(tenantId),
      services.live.currentQps(tenantId),
      services.live.inFlight(tenantId),
      services.live.monthToDateMicros(tenantId),
      services.holdings.holdings(tenantId),
    ]);
    const q = quotasJson(quotas);
    return c.json({
      usage: {
        qps: { current: qps, limit: q.maxQps },
        inFlight: { current: inFlight, limit: q.maxConcurrency },
        spend: { monthToDateMicros: spent, budgetMicros: q.monthlyBudgetMicros },
        models: { current: held.models, limit: q.maxModels },
        storage: {
          usedBytes: Number(held.storageUsedBytes),
          reservedBytes: Number(held.storageReservedBytes),
          limitBytes: q.maxStorageBytes,
        },
      },
    });
  });
}
