import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { Invoice } from "@maas/db";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, iso, isoTime, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

export const InvoiceSchema = z
  .object({
    id: z.string(),
    period: z.string(),
    status: z.enum(["issued", "paid", "void"]),
    currency: z.string(),
    requests: z.number(),
    totalMicros: z.number(),
    periodStart: isoTime(),
    periodEnd: isoTime(),
    issuedAt: isoTime(),
  })
  .openapi("Invoice");

export function invoiceJson(r: Invoice) {
  return {
    id: r.id,
    period: r.period,
    status: r.status,
    currency: r.currency,
    requests: Number(r.requests),
    totalMicros: Number(r.total_micros),
    periodStart: iso(r.period_start),
    periodEnd: iso(r.period_end),
    issuedAt: iso(r.issued_at),
  };
}

const route = createRoute({
  method: "get",
  path: "/v1/invoices",
  tags: ["billing"],
  summary: "The tenant's invoices, newest period first",
  security: [{ bearer: [] }],
  middleware: [requirePermission("billing:read")] as const,
  responses: {
    200: jsonResponse(z.object({ invoices: z.array(InvoiceSchema) }), "Invoices"),
    ...errorResponses(),
  },
});

export function registerV1InvoicesList(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const rows = await inTenant(services.db, c, (trx) =>
      trx.selectFrom("invoices").selectAll().orderBy("period", "desc").limit(120).execute(),
    );
    return c.json({ invoices: rows.map(invoiceJson) }, 200);
  });
}
