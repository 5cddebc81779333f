import { createRoute, z } from "@hono/zod-openapi";
import { requireOperator } from "@maas/auth";
import { withSystem } from "@maas/db";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { actorOf } from "../lib/request-scope.js";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common.js";
import { TenantIdParams, TenantSchema, tenantView } from "../schemas/tenants.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "post",
  path: "/v1/tenants/{tenantId}/suspend",
  tags: ["tenants"],
  summary:
    "Suspend a tenant: its keys and members are refused within the auth cache bound (platform operators only)",
  security: [{ bearer: [] }],
  middleware: [requireOperator()] as const,
  request: {
    params: TenantIdParams,
    body: jsonBody(z.object({ reason: z.string().min(1).max(500).optional() }).strict()),
  },
  responses: {
    200: jsonResponse(z.object({ tenant: TenantSchema }), "The suspended tenant"),
    ...errorResponses(404, 409),
  },
});

export function registerV1TenantsSuspend(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { tenantId } = c.req.valid("param");
    const { reason } = c.req.valid("json");
    const actor = actorOf(c.var.principal);
    const requestId = c.var.requestId ?? null;
    const tenant = await withSystem(services.db, async (trx) => {
      const existing = await trx
        .selectFrom("tenants")
        .selectAll()
        .where("id", "=", tenantId)
        .forUpdate()
        .executeTakeFirst();
      if (existing === undefined) throw new AppError("NOT_FOUND", `tenant ${tenantId} not found`);
      if (existing.status === "deleted") throw new AppError("CONFLICT", `tenant ${tenantId} is deleted`);
      if (existing.status === "suspended") return existing;
      const row = await trx
        .updateTable("tenants")
        .set({ status: "suspended" })
        .where("id", "=", tenantId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await appendAudit(trx, {
        tenantId,
        actor,
        requestId,
        action: "tenant.suspend",
        target: tenantId,
        details: reason === undefined ? {} : { reason },
      });
      return row;
    });
    return c.json({ tenant: tenantView(tenant) }, 200);
  });
}
