import { createRoute, z } from "@hono/zod-openapi";
import { requireOperator } from "@maas/auth";
import { withSystem } from "@maas/db";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import { QuotasSchema, quotasView, TenantIdParams, TenantSchema, tenantView } from "../schemas/tenants.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "get",
  path: "/v1/tenants/{tenantId}",
  tags: ["tenants"],
  summary: "A tenant with its quotas and storage use (platform operators only)",
  security: [{ bearer: [] }],
  middleware: [requireOperator()] as const,
  request: { params: TenantIdParams },
  responses: {
    200: jsonResponse(
      z.object({
        tenant: TenantSchema,
        quotas: QuotasSchema.nullable(),
        storage: z.object({ usedBytes: z.number().int(), reservedBytes: z.number().int() }),
      }),
      "The tenant",
    ),
    ...errorResponses(404),
  },
});

export function registerV1TenantsGet(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { tenantId } = c.req.valid("param");
    const found = await withSystem(services.db, async (trx) => {
      const tenant = await trx
        .selectFrom("tenants")
        .selectAll()
        .where("id", "=", tenantId)
        .executeTakeFirst();
      if (tenant === undefined) throw new AppError("NOT_FOUND", `tenant ${tenantId} not found`);
      const quotas = await trx
        .selectFrom("quotas")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .executeTakeFirst();
      const storage = await trx
        .selectFrom("tenant_storage")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .executeTakeFirst();
      return { tenant, quotas, storage };
    });
    return c.json(
      {
        tenant: tenantView(found.tenant),
        quotas: found.quotas === undefined ? null : quotasView(found.quotas),
        storage: {
          usedBytes: Number(found.storage?.used_bytes ?? 0n),
          reservedBytes: Number(found.storage?.reserved_bytes ?? 0n),
        },
      },
      200,
    );
  });
}
