import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";
import { WEBHOOK_COLUMNS, WebhookSchema, webhookJson } from "./v1-webhooks-create.js";

const route = createRoute({
  method: "get",
  path: "/v1/webhooks",
  tags: ["webhooks"],
  summary: "The tenant's webhooks (never their secrets)",
  security: [{ bearer: [] }],
  middleware: [requirePermission("billing:read")] as const,
  responses: {
    200: jsonResponse(z.object({ webhooks: z.array(WebhookSchema) }), "Webhooks"),
    ...errorResponses(),
  },
});

export function registerV1WebhooksList(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const rows = await inTenant(services.db, c, (trx) =>
      trx
        .selectFrom("webhooks")
        .select([...WEBHOOK_COLUMNS])
        .orderBy("created_at")
        .execute(),
    );
    return c.json({ webhooks: rows.map(webhookJson) }, 200);
  });
}
