import { createRoute, z } from "@hono/zod-openapi";
import { generateApiKey, requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { assertCanGrant } from "../lib/grant.js";
import { inTenant, requestScope } from "../lib/request-scope.js";
import { ApiKeySchema, apiKeyView, CreateApiKeySchema } from "../schemas/access.js";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "post",
  path: "/v1/keys",
  tags: ["access"],
  summary: "Create an API key (the secret is in this response only)",
  description: "A role can only grant roles up to its own (an admin cannot mint an owner key).",
  security: [{ bearer: [] }],
  middleware: [requirePermission("keys:write")] as const,
  request: { body: jsonBody(CreateApiKeySchema) },
  responses: {
    201: jsonResponse(
      z.object({
        key: ApiKeySchema,
        secret: z.string().openapi({ description: "Shown once; store it now" }),
      }),
      "The new key and its secret",
    ),
    ...errorResponses(),
  },
});

export function registerV1KeysCreate(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    assertCanGrant(requestScope(c).principal, body.role);
    const generated = generateApiKey();
    const key = await inTenant(services.db, c, async (trx, scope) => {
      const row = await trx
        .insertInto("api_keys")
        .values({
          id: generated.id,
          tenant_id: scope.tenantId,
          prefix: generated.prefix,
          hash: generated.hash,
          role: body.role,
          name: body.name,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await appendAudit(trx, {
        ...scope,
        action: "key.create",
        target: row.id,
        details: { role: row.role, name: row.name },
      });
      return row;
    });
    return c.json({ key: apiKeyView(key), secret: generated.secret }, 201);
  });
}
