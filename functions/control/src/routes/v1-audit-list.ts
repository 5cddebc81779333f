import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, iso, isoTime, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

const AuditEntrySchema = z
  .object({
    id: z.string().openapi({ description: "Sequence number (a string: it is a 64-bit integer)" }),
    actor: z.string().openapi({ description: "`key_…` for an API key, `jwt:<sub>` for a person" }),
    action: z.string().openapi({ example: "model.create" }),
    target: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    requestId: z.string().nullable(),
    createdAt: isoTime(),
  })
  .openapi("AuditEntry");

const route = createRoute({
  method: "get",
  path: "/v1/audit",
  tags: ["audit"],
  summary: "The tenant's audit log, newest first",
  security: [{ bearer: [] }],
  middleware: [requirePermission("audit:read")] as const,
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(100),
      before: z
        .string()
        .regex(/^\d{1,19}$/, "expected an entry id")
        .optional()
        .openapi({ description: "Entries older than this id (the previous page's `nextBefore`)" }),
      action: z.string().max(100).optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ entries: z.array(AuditEntrySchema), nextBefore: z.string().nullable() }),
      "A page of entries",
    ),
    ...errorResponses(),
  },
});

export function registerV1AuditList(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const query = c.req.valid("query");
    const rows = await inTenant(services.db, c, (trx) => {
      let q = trx
        .selectFrom("audit_log")
        .selectAll()
        .orderBy("id", "desc")
        .limit(query.limit + 1);
      if (query.before !== undefined) q = q.where("id", "<", BigInt(query.before));
      if (query.action !== undefined) q = q.where("action", "=", query.action);
      return q.execute();
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return c.json(
      {
        entries: page.map((r) => ({
          id: r.id.toString(),
          actor: r.actor,
          action: r.action,
          target: r.target,
          details: r.details,
          requestId: r.request_id,
          createdAt: iso(r.created_at),
        })),
        nextBefore: rows.length > query.limit && last !== undefined ? last.id.toString() : null,
      },
      200,
    );
  });
}
