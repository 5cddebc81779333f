import { validationError } from "@maas/errors";
import type { Quotas } from "@maas/quota";
import type { Hono } from "hono";
import { z } from "zod";
import type { QuotaEnv, QuotaServices } from "../services.js";
import { authorizeTenant } from "./access.js";

const patchSchema = z
  .object({
    maxModels: z.int().min(0),
    maxStorageBytes: z.int().min(0),
    maxQps: z.int().min(0),
    maxConcurrency: z.int().min(0),
    monthlyBudgetMicros: z.int().min(0),
  })
  .partial()
  .strict();

export function quotasJson(q: Quotas) {
  return {
    maxModels: q.maxModels,
    maxStorageBytes: Number(q.maxStorageBytes),
    maxQps: q.maxQps,
    maxConcurrency: q.maxConcurrency,
    monthlyBudgetMicros: Number(q.monthlyBudgetMicros),
  };
}

/**
 * `GET /v1/tenants/{tenant}/quotas` (operators, or the tenant's own quotas:read) and
 * `PUT` (operators only; the write invalidates every replica's quota cache).
 *
 * @example
 * registerV1TenantQuotas(app, services);
 */
export function registerV1TenantQuotas(app: Hono<QuotaEnv>, services: QuotaServices): void {
  app.get("/v1/tenants/:tenantId/quotas", async (c) => {
    const tenantId = c.req.param("tenantId");
    authorizeTenant(c, tenantId, "quotas:read");
    return c.json({ quotas: quotasJson(await services.store.get(tenantId)) });
  });

  app.put("/v1/tenants/:tenantId/quotas", async (c) => {
    const tenantId = c.req.param("tenantId");
    authorizeTenant(c, tenantId, "operator");
    const parsed = patchSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw validationError(parsed.error);
    const p = parsed.data;
    const patch: Partial<Quotas> = {
      ...(p.maxModels !== undefined && { maxModels: p.maxModels }),
      ...(p.maxStorageBytes !== undefined && { maxStorageBytes: BigInt(p.maxStorageBytes) }),
      ...(p.maxQps !== undefined && { maxQps: p.maxQps }),
      ...(p.maxConcurrency !== undefined && { maxConcurrency: p.maxConcurrency }),
      ...(p.monthlyBudgetMicros !== undefined && { monthlyBudgetMicros: BigInt(p.monthlyBudgetMicros) }),
    };
    return c.json({ quotas: quotasJson(await services.store.set(tenantId, patch)) });
  });
}
