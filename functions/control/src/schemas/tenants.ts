import { z } from "@hono/zod-openapi";
import type { Quota, Tenant } from "@maas/db";
import { PLANS } from "../plans.js";
import { dnsLabel, idParam, iso, isoTime } from "./common.js";

export const TenantSchema = z
  .object({
    id: z.string().openapi({ example: "tnt_01jd8x3k5q0v8m2c7r9s4t6w1y" }),
    slug: z.string(),
    name: z.string(),
    plan: z.string(),
    status: z.enum(["active", "suspended", "deleted"]),
    createdAt: isoTime(),
  })
  .openapi("Tenant");

export const QuotasSchema = z
  .object({
    maxModels: z.number().int(),
    maxStorageBytes: z.number().int(),
    maxQps: z.number().int(),
    maxConcurrency: z.number().int(),
    monthlyBudgetMicros: z.number().int(),
  })
  .openapi("Quotas");

export const CreateTenantSchema = z
  .object({
    slug: dnsLabel(40).openapi({ example: "acme", description: "Also the namespace suffix: tenant-<slug>" }),
    name: z.string().min(1).max(200),
    plan: z.enum(PLANS).default("free"),
    owner: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .openapi({ description: "Identity provider subject made the tenant's first owner" }),
  })
  .strict()
  .openapi("CreateTenant");

export const TenantIdParams = z.object({
  tenantId: idParam("tnt", "tnt_01jd8x3k5q0v8m2c7r9s4t6w1y").openapi({
    param: { name: "tenantId", in: "path" },
  }),
});

export function tenantView(t: Tenant): z.infer<typeof TenantSchema> {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    plan: t.plan,
    status: t.status,
    createdAt: iso(t.created_at),
  };
}

export function quotasView(q: Quota): z.infer<typeof QuotasSchema> {
  return {
    maxModels: q.max_models,
    maxStorageBytes: Number(q.max_storage_bytes),
    maxQps: q.max_qps,
    maxConcurrency: q.max_concurrency,
    monthlyBudgetMicros: Number(q.monthly_budget_micros),
  };
}
