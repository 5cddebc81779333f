import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import { DeploymentIdParams, DeploymentSchema, deploymentView } from "../schemas/deployments.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "get",
  path: "/v1/deployments/{deploymentId}",
  tags: ["deployments"],
  summary: "One deployment: status, URL once ready, failure reason",
  security: [{ bearer: [] }],
  middleware: [requirePermission("deployments:read")] as const,
  request: { params: DeploymentIdParams },
  responses: {
    200: jsonResponse(z.object({ deployment: DeploymentSchema }), "The deployment"),
    ...errorResponses(404),
  },
});

export function registerV1DeploymentsGet(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { deploymentId } = c.req.valid("param");
    const row = await inTenant(services.db, c, (trx) =>
      trx.selectFrom("deployments").selectAll().where("id", "=", deploymentId).executeTakeFirst(),
    );
    if (row === undefined) throw new AppError("NOT_FOUND", `deployment ${deploymentId} not found`);
    return c.json({ deployment: deploymentView(row) }, 200);
  });
}
