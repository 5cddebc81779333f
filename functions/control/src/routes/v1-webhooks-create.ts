import { createHash, randomBytes } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { newId } from "@maas/db";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, iso, isoTime, jsonBody, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

export const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    eventTypes: z.array(z.string()).openapi({ description: "Delivered event types; empty = all" }),
    description: z.string().nullable(),
    active: z.boolean(),
    createdAt: isoTime(),
  })
  .openapi("Webhook");

export const WEBHOOK_COLUMNS = ["id", "url", "event_types", "description", "active", "created_at"] as const;

export function webhookJson(r: {
  id: string;
  url: string;
  event_types: unknown[];
  description: string | null;
  active: boolean;
  created_at: Date;
}) {
  return {
    id: r.id,
    url: r.url,
    eventTypes: r.event_types.map(String),
    description: r.description,
    active: r.active,
    createdAt: iso(r.created_at),
  };
}

const EVENT_TYPES = ["io.maas.quota.threshold.crossed.v1", "io.maas.invoice.issued.v1"] as const;

const route = createRoute({
  method: "post",
  path: "/v1/webhooks",
  tags: ["webhooks"],
  summary: "Register a webhook; its signing secret is in this response only",
  security: [{ bearer: [] }],
  middleware: [requirePermission("keys:write")] as const,
  request: {
    body: jsonBody(
      z.object({
        url: z.url({ protocol: /^https?$/ }).max(2000),
        eventTypes: z.array(z.enum(EVENT_TYPES)).max(10).default([]),
        description: z.string().max(500).optional(),
      }),
    ),
  },
  responses: {
    201: jsonResponse(
      z.object({
        webhook: WebhookSchema,
        secret: z.string().openapi({ description: "Standard Webhooks secret (whsec_…), shown once" }),
      }),
      "Created",
    ),
    ...errorResponses(),
  },
});

export function registerV1WebhooksCreate(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const id = newId("whk");
    const row = await inTenant(services.db, c, async (trx, scope) => {
      const created = await trx
        .insertInto("webhooks")
        .values({
          id,
          tenant_id: scope.tenantId,
          url: body.url,
          // Sealed with the row's id as associated data: the notifier opens it for this row only.
          secret: services.secrets.seal(secret, id),
          event_types: JSON.stringify(body.eventTypes),
          description: body.description ?? null,
        })
        .returning([...WEBHOOK_COLUMNS])
        .executeTakeFirstOrThrow();
      await trx
        .insertInto("audit_log")
        .values({
          tenant_id: scope.tenantId,
          actor: scope.actor,
          action: "webhook.create",
          target: id,
          // A fingerprint, never the secret: enough to tell two secrets apart in the log.
          details: {
            url: body.url,
            secretSha256: createHash("sha256").update(secret).digest("hex").slice(0, 12),
          },
          request_id: scope.requestId,
        })
        .execute();
      return created;
    });
    return c.json({ webhook: webhookJson(row), secret }, 201);
  });
}
