import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import { createEvent, events } from "@maas/events";
import { writeOutbox } from "@maas/events/outbox";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { EVENT_SOURCE } from "../lib/event-source.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import { DeploymentIdParams, DeploymentSchema, deploymentView } from "../schemas/deployments.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "delete",
  path: "/v1/deployments/{deploymentId}",
  tags: ["deployments"],
  summary: "Delete a deployment; the deployer tears its service down on deployment.deleted",
  description:
    "Idempotent: deleting a deployment already being deleted answers the same without a second event.",
  security: [{ bearer: [] }],
  middleware: [requirePermission("deployments:write")] as const,
  request: { params: DeploymentIdParams },
  responses: {
    202: jsonResponse(z.object({ deployment: DeploymentSchema }), "Accepted: status deleting"),
    ...errorResponses(404),
  },
});

export function registerV1DeploymentsDelete(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { deploymentId } = c.req.valid("param");
    const row = await inTenant(services.db, c, async (trx, scope) => {
      const existing = await trx
        .selectFrom("deployments")
        .selectAll()
        .where("id", "=", deploymentId)
        .forUpdate()
        .executeTakeFirst();
      if (existing === undefined || existing.status === "deleted") {
        throw new AppError("NOT_FOUND", `deployment ${deploymentId} not found`);
      }
      if (existing.status === "deleting") return existing;
      const updated = await trx
        .updateTable("deployments")
        .set({ status: "deleting", updated_at: services.clock() })
        .where("id", "=", deploymentId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await writeOutbox(trx, [
        createEvent(events.deploymentDeleted, {
          source: EVENT_SOURCE,
          subject: deploymentId,
          data: { tenantId: scope.tenantId, deploymentId },
        }),
      ]);
      await appendAudit(trx, {
        ...scope,
        action: "deployment.delete",
        target: deploymentId,
        details: { name: existing.name },
      });
      return updated;
    });
    return c.json({ deployment: deploymentView(row) }, 202);
  });
}
