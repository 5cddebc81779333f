import { createRoute, z } from "@hono/zod-openapi";
import { requireOperator } from "@maas/auth";
import { newId, withSystem } from "@maas/db";
import { AppError } from "@maas/errors";
import { createEvent, events } from "@maas/events";
import { writeOutbox } from "@maas/events/outbox";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { isUniqueViolation } from "../lib/db-errors.js";
import { EVENT_SOURCE } from "../lib/event-source.js";
import { actorOf } from "../lib/request-scope.js";
import { PLAN_QUOTAS } from "../plans.js";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common.js";
import {
  CreateTenantSchema,
  QuotasSchema,
  quotasView,
  TenantSchema,
  tenantView,
} from "../schemas/tenants.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "post",
  path: "/v1/tenants",
  tags: ["tenants"],
  summary: "Create a tenant (platform operators only); emits tenant.created",
  security: [{ bearer: [] }],
  middleware: [requireOperator()] as const,
  request: { body: jsonBody(CreateTenantSchema) },
  responses: {
    201: jsonResponse(
      z.object({ tenant: TenantSchema, quotas: QuotasSchema }),
      "The tenant and its starting quotas",
    ),
    ...errorResponses(409),
  },
});

export function registerV1TenantsCreate(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const actor = actorOf(c.var.principal);
    const requestId = c.var.requestId ?? null;
    const created = await withSystem(services.db, async (trx) => {
      const taken = await trx
        .selectFrom("tenants")
        .select("id")
        .where("slug", "=", body.slug)
        .executeTakeFirst();
      if (taken !== undefined) throw slugTaken(body.slug);
      const id = newId("tnt");
      const tenant = await trx
        .insertInto("tenants")
        .values({ id, slug: body.slug, name: body.name, plan: body.plan })
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch((err: unknown) => {
          throw isUniqueViolation(err) ? slugTaken(body.slug) : err;
        });
      const quotas = await trx
        .insertInto("quotas")
        .values({ tenant_id: id, ...PLAN_QUOTAS[body.plan] })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx.insertInto("tenant_storage").values({ tenant_id: id }).execute();
      if (body.owner !== undefined) {
        await trx
          .insertInto("members")
          .values({ id: newId("mem"), tenant_id: id, subject: body.owner, role: "owner" })
          .execute();
      }
      // Same transaction: the deployer hears of the tenant exactly when it exists.
      await writeOutbox(trx, [
        createEvent(events.tenantCreated, {
          source: EVENT_SOURCE,
          subject: id,
          data: { tenantId: id, slug: tenant.slug, name: tenant.name, plan: tenant.plan },
        }),
      ]);
      await appendAudit(trx, {
        tenantId: id,
        actor,
        requestId,
        action: "tenant.create",
        target: id,
        details: {
          slug: tenant.slug,
          plan: tenant.plan,
          ...(body.owner === undefined ? {} : { owner: body.owner }),
        },
      });
      return { tenant, quotas };
    });
    return c.json({ tenant: tenantView(created.tenant), quotas: quotasView(created.quotas) }, 201);
  });
}

function slugTaken(slug: string): AppError {
  return new AppError("CONFLICT", `a tenant with slug ${slug} already exists`, { details: { slug } });
}
