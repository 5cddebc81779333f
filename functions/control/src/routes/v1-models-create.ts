import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { newId } from "@maas/db";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { isUniqueViolation } from "../lib/db-errors.js";
import { assertModelQuota } from "../lib/quotas.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common.js";
import { CreateModelSchema, ModelSchema, modelView } from "../schemas/models.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "post",
  path: "/v1/models",
  tags: ["models"],
  summary: "Create a model (a named series of uploaded versions)",
  security: [{ bearer: [] }],
  middleware: [requirePermission("models:write")] as const,
  request: { body: jsonBody(CreateModelSchema) },
  responses: {
    201: jsonResponse(z.object({ model: ModelSchema }), "The new model"),
    ...errorResponses(409),
  },
});

export function registerV1ModelsCreate(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const model = await inTenant(services.db, c, async (trx, scope) => {
      await assertModelQuota(trx, scope.tenantId);
      const taken = await trx
        .selectFrom("models")
        .select("id")
        .where("name", "=", body.name)
        .where("deleted_at", "is", null)
        .executeTakeFirst();
      if (taken !== undefined) throw nameTaken(body.name);
      const row = await trx
        .insertInto("models")
        .values({
          id: newId("mdl"),
          tenant_id: scope.tenantId,
          name: body.name,
          description: body.description ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch((err: unknown) => {
          // Lost a race with a concurrent create of the same name.
          throw isUniqueViolation(err) ? nameTaken(body.name) : err;
        });
      await appendAudit(trx, {
        ...scope,
        action: "model.create",
        target: row.id,
        details: { name: row.name },
      });
      return row;
    });
    return c.json({ model: modelView(model) }, 201);
  });
}

function nameTaken(name: string): AppError {
  return new AppError("CONFLICT", `a model named ${name} already exists`, { details: { name } });
}
