import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { ApiKeySchema, apiKeyView } from "../schemas/access.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "get",
  path: "/v1/keys",
  tags: ["access"],
  summary: "List API keys (never their secrets), with last use and revocation",
  security: [{ bearer: [] }],
  middleware: [requirePermission("keys:read")] as const,
  responses: {
    200: jsonResponse(z.object({ keys: z.array(ApiKeySchema) }), "The keys"),
    ...errorResponses(),
  },
});

export function registerV1KeysList(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const keys = await inTenant(services.db, c, (trx) =>
      trx.selectFrom("api_keys").selectAll().orderBy("created_at").orderBy("id").execute(),
    );
    return c.json({ keys: keys.map(apiKeyView) }, 200);
  });
}
