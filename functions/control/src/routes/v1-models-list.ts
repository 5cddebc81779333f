import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import { ModelSchema, modelView } from "../schemas/models.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "get",
  path: "/v1/models",
  tags: ["models"],
  summary: "List the tenant's models",
  security: [{ bearer: [] }],
  middleware: [requirePermission("models:read")] as const,
  responses: {
    200: jsonResponse(z.object({ models: z.array(ModelSchema) }), "The models"),
    ...errorResponses(),
  },
});

export function registerV1ModelsList(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const models = await inTenant(services.db, c, (trx) =>
      trx
        .selectFrom("models")
        .selectAll()
        .where("deleted_at", "is", null)
        .orderBy("created_at")
        .orderBy("id")
        .execute(),
    );
    return c.json({ models: models.map(modelView) }, 200);
  });
}
