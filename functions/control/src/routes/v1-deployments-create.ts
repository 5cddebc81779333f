import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { newId } from "@maas/db";
import { AppError } from "@maas/errors";
import { createEvent, events } from "@maas/events";
import { writeOutbox } from "@maas/events/outbox";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { isUniqueViolation } from "../lib/db-errors.js";
import { EVENT_SOURCE } from "../lib/event-source.js";
import { findModel } from "../lib/find-model.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common.js";
import { CreateDeploymentSchema, DeploymentSchema, deploymentView } from "../schemas/deployments.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "post",
  path: "/v1/deployments",
  tags: ["deployments"],
  summary: "Deploy a ready model version; the deployer picks up deployment.requested",
  security: [{ bearer: [] }],
  middleware: [requirePermission("deployments:write")] as const,
  request: { body: jsonBody(CreateDeploymentSchema) },
  responses: {
    202: jsonResponse(
      z.object({ deployment: DeploymentSchema }),
      "Accepted: status pending until the deployer reports",
    ),
    ...errorResponses(404, 409),
  },
});

export function registerV1DeploymentsCreate(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const deployment = await inTenant(services.db, c, async (trx, scope) => {
      const model = await findModel(trx, body.model);
      const version = await trx
        .selectFrom("model_versions")
        .selectAll()
        .where("model_id", "=", model.id)
        .where("version", "=", body.version)
        .executeTakeFirst();
      if (version === undefined)
        throw new AppError("NOT_FOUND", `version ${body.version} of ${body.model} not found`);
      if (version.status !== "ready") {
        throw new AppError("CONFLICT", `version ${body.version} is ${version.status}, not ready`, {
          details: { status: version.status },
        });
      }
      if (body.variant !== "fp32" && !hasVariant(version.variants, body.variant)) {
        throw new AppError("CONFLICT", `version ${body.version} has no ${body.variant} variant`, {
          details: { variant: body.variant },
        });
      }
      const taken = await trx
        .selectFrom("deployments")
        .select("id")
        .where("name", "=", body.name)
        .where("status", "<>", "deleted")
        .executeTakeFirst();
      if (taken !== undefined) throw nameTaken(body.name);
      const row = await trx
        .insertInto("deployments")
        .values({
          id: newId("dep"),
          tenant_id: scope.tenantId,
          model_id: model.id,
          version_id: version.id,
          name: body.name,
          variant: body.variant,
          device: body.device,
          min_scale: body.minScale,
          max_scale: body.maxScale,
          // Knative's concurrency target: about one full batch per instance before scaling out.
          target_concurrency: body.maxBatchSize,
          max_batch_size: body.maxBatchSize,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch((err: unknown) => {
          throw isUniqueViolation(err) ? nameTaken(body.name) : err;
        });
      await writeOutbox(trx, [
        createEvent(events.deploymentRequested, {
          source: EVENT_SOURCE,
          subject: row.id,
          data: {
            tenantId: scope.tenantId,
            deploymentId: row.id,
            modelId: model.id,
            versionId: version.id,
            variant: row.variant,
            device: row.device,
            minScale: row.min_scale,
            maxScale: row.max_scale,
            targetConcurrency: row.target_concurrency,
          },
        }),
      ]);
      await appendAudit(trx, {
        ...scope,
        action: "deployment.create",
        target: row.id,
        details: {
          name: row.name,
          modelId: model.id,
          versionId: version.id,
          variant: row.variant,
          device: row.device,
        },
      });
      return row;
    });
    return c.json({ deployment: deploymentView(deployment) }, 202);
  });
}

function hasVariant(variants: unknown[], variant: string): boolean {
  return variants.some(
    (v) => typeof v === "object" && v !== null && (v as { variant?: unknown }).variant === variant,
  );
}

function nameTaken(name: string): AppError {
  return new AppError("CONFLICT", `a deployment named ${name} already exists`, { details: { name } });
}
