import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { findModel } from "../lib/find-model.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse, ModelRefSchema } from "../schemas/common.js";
import { VersionSchema, versionView } from "../schemas/models.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "get",
  path: "/v1/models/{model}/versions/{version}",
  tags: ["models"],
  summary: "One version of a model: status, signature, variants, rejection reason",
  security: [{ bearer: [] }],
  middleware: [requirePermission("models:read")] as const,
  request: {
    params: z.object({
      model: ModelRefSchema,
      version: z.coerce
        .number()
        .int()
        .min(1)
        .max(2_147_483_647)
        .openapi({ param: { name: "version", in: "path" }, example: 1 }),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ version: VersionSchema }), "The version"),
    ...errorResponses(404),
  },
});

export function registerV1VersionsGet(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const params = c.req.valid("param");
    const version = await inTenant(services.db, c, async (trx) => {
      const model = await findModel(trx, params.model);
      const row = await trx
        .selectFrom("model_versions")
        .selectAll()
        .where("model_id", "=", model.id)
        .where("version", "=", params.version)
        .executeTakeFirst();
      if (row === undefined)
        throw new AppError("NOT_FOUND", `version ${params.version} of ${params.model} not found`);
      return row;
    });
    return c.json({ version: versionView(version) }, 200);
  });
}
