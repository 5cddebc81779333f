import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, idParam, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "delete",
  path: "/v1/webhooks/{webhookId}",
  tags: ["webhooks"],
  summary: "Delete a webhook and its delivery log",
  security: [{ bearer: [] }],
  middleware: [requirePermission("keys:write")] as const,
  request: { params: z.object({ webhookId: idParam("whk", "whk_01jd8x3k5q0v8m2c7r9s4t6w1y") }) },
  responses: { 200: jsonResponse(z.object({ deleted: z.string() }), "Deleted"), ...errorResponses(404) },
});

export function registerV1WebhooksDelete(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { webhookId } = c.req.valid("param");
    const deleted = await inTenant(services.db, c, async (trx, scope) => {
      const gone = await trx
        .deleteFrom("webhooks")
        .where("id", "=", webhookId)
        .returning("id")
        .executeTakeFirst();
      if (gone) {
        await trx
          .insertInto("audit_log")
          .values({
            tenant_id: scope.tenantId,
            actor: scope.actor,
            action: "webhook.delete",
            target: webhookId,
            request_id: scope.requestId,
          })
          .execute();
      }
      return gone;
    });
    if (!deleted) throw new AppError("NOT_FOUND", `no webhook ${webhookId}`);
    return c.json({ deleted: webhookId }, 200);
  });
}
