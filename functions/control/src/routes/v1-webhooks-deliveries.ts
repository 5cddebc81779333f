import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, idParam, iso, isoTime, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "get",
  path: "/v1/webhooks/{webhookId}/deliveries",
  tags: ["webhooks"],
  summary: "A webhook's delivery log, newest first: attempts, last status, retry time, dead-letters",
  security: [{ bearer: [] }],
  middleware: [requirePermission("billing:read")] as const,
  request: {
    params: z.object({ webhookId: idParam("whk", "whk_01jd8x3k5q0v8m2c7r9s4t6w1y") }),
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
  },
  responses: {
    200: jsonResponse(
      z.object({
        deliveries: z.array(
          z.object({
            id: z.string(),
            eventId: z.string(),
            eventType: z.string(),
            status: z.enum(["pending", "retrying", "delivered", "dead"]),
            attempts: z.number(),
            lastStatusCode: z.number().nullable(),
            lastError: z.string().nullable(),
            nextAttemptAt: isoTime().nullable(),
            deliveredAt: isoTime().nullable(),
            deadLetteredAt: isoTime().nullable(),
            createdAt: isoTime(),
          }),
        ),
      }),
      "Deliveries",
    ),
    ...errorResponses(404),
  },
});

export function registerV1WebhooksDeliveries(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { webhookId } = c.req.valid("param");
    const { limit } = c.req.valid("query");
    const rows = await inTenant(services.db, c, (trx) =>
      trx
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("webhook_id", "=", webhookId)
        .orderBy("id", "desc")
        .limit(limit)
        .execute(),
    );
    return c.json(
      {
        deliveries: rows.map((r) => ({
          id: r.id.toString(),
          eventId: r.event_id,
          eventType: r.event_type,
          status: r.status,
          attempts: r.attempts,
          lastStatusCode: r.last_status_code,
          lastError: r.last_error,
          nextAttemptAt: iso(r.next_attempt_at),
          deliveredAt: iso(r.delivered_at),
          deadLetteredAt: iso(r.dead_lettered_at),
          createdAt: iso(r.created_at),
        })),
      },
      200,
    );
  });
}
