import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { assertCanGrant } from "../lib/grant.js";
import { inTenant } from "../lib/request-scope.js";
import { ApiKeySchema, apiKeyView, KeyIdParams } from "../schemas/access.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "delete",
  path: "/v1/keys/{keyId}",
  tags: ["access"],
  summary: "Revoke an API key (refused within the auth cache's bound, at most 5 s)",
  security: [{ bearer: [] }],
  middleware: [requirePermission("keys:write")] as const,
  request: { params: KeyIdParams },
  responses: {
    200: jsonResponse(z.object({ key: ApiKeySchema }), "The revoked key"),
    ...errorResponses(404),
  },
});

export function registerV1KeysRevoke(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { keyId } = c.req.valid("param");
    const key = await inTenant(services.db, c, async (trx, scope) => {
      const existing = await trx
        .selectFrom("api_keys")
        .selectAll()
        .where("id", "=", keyId)
        .forUpdate()
        .executeTakeFirst();
      if (existing === undefined) throw new AppError("NOT_FOUND", `key ${keyId} not found`);
      // Revoking is taking a role away: only from someone at or below one's own.
      assertCanGrant(scope.principal, existing.role);
      if (existing.revoked_at !== null) return existing;
      const row = await trx
        .updateTable("api_keys")
        .set({ revoked_at: services.clock() })
        .where("id", "=", keyId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await appendAudit(trx, { ...scope, action: "key.revoke", target: keyId, details: {} });
      return row;
    });
    return c.json({ key: apiKeyView(key) }, 200);
  });
}
