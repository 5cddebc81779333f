import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { findModel } from "../lib/find-model.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse, ModelRefSchema } from "../schemas/common.js";
import { ModelSchema, modelView, VersionSchema, versionView } from "../schemas/models.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "get",
  path: "/v1/models/{model}",
  tags: ["models"],
  summary: "A model (by id or name) with its versions, newest first",
  security: [{ bearer: [] }],
  middleware: [requirePermission("models:read")] as const,
  request: { params: z.object({ model: ModelRefSchema }) },
  responses: {
    200: jsonResponse(z.object({ model: ModelSchema, versions: z.array(VersionSchema) }), "The model"),
    ...errorResponses(404),
  },
});

export function registerV1ModelsGet(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { model: ref } = c.req.valid("param");
    const { model, versions } = await inTenant(services.db, c, async (trx) => {
      const model = await findModel(trx, ref);
      const versions = await trx
        .selectFrom("model_versions")
        .selectAll()
        .where("model_id", "=", model.id)
        .orderBy("version", "desc")
        .execute();
      return { model, versions };
    });
    return c.json({ model: modelView(model), versions: versions.map(versionView) }, 200);
  });
}
