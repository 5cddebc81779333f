import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import { DeploymentSchema, deploymentView } from "../schemas/deployments.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "get",
  path: "/v1/deployments",
  tags: ["deployments"],
  summary: "List the tenant's deployments (deleted ones left out)",
  security: [{ bearer: [] }],
  middleware: [requirePermission("deployments:read")] as const,
  responses: {
    200: jsonResponse(z.object({ deployments: z.array(DeploymentSchema) }), "The deployments"),
    ...errorResponses(),
  },
});

export function registerV1DeploymentsList(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const rows = await inTenant(services.db, c, (trx) =>
      trx
        .selectFrom("deployments")
        .selectAll()
        .where("status", "<>", "deleted")
        .orderBy("created_at")
        .orderBy("id")
        .execute(),
    );
    return c.json({ deployments: rows.map(deploymentView) }, 200);
  });
}
