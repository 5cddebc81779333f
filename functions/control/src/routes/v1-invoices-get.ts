import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, idParam, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";
import { InvoiceSchema, invoiceJson } from "./v1-invoices-list.js";

const route = createRoute({
  method: "get",
  path: "/v1/invoices/{invoiceId}",
  tags: ["billing"],
  summary: "One invoice with its lines (one per model)",
  security: [{ bearer: [] }],
  middleware: [requirePermission("billing:read")] as const,
  request: { params: z.object({ invoiceId: idParam("inv", "inv_01jd8x3k5q0v8m2c7r9s4t6w1y") }) },
  responses: {
    200: jsonResponse(
      z.object({
        invoice: InvoiceSchema,
        lines: z.array(
          z.object({
            modelId: z.string(),
            description: z.string(),
            quantity: z.number(),
            computeMs: z.number(),
            unitPriceMicros: z
              .number()
              .openapi({ description: "Average per inference, rounded; informative" }),
            amountMicros: z.number().openapi({ description: "Exact sum of the metered costs" }),
          }),
        ),
      }),
      "The invoice",
    ),
    ...errorResponses(404),
  },
});

export function registerV1InvoicesGet(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { invoiceId } = c.req.valid("param");
    const found = await inTenant(services.db, c, async (trx) => {
      const invoice = await trx
        .selectFrom("invoices")
        .selectAll()
        .where("id", "=", invoiceId)
        .executeTakeFirst();
      if (!invoice) return undefined;
      const lines = await trx
        .selectFrom("invoice_lines")
        .selectAll()
        .where("invoice_id", "=", invoiceId)
        .orderBy("model_id")
        .execute();
      return { invoice, lines };
    });
    if (!found) throw new AppError("NOT_FOUND", `no invoice ${invoiceId}`);
    return c.json(
      {
        invoice: invoiceJson(found.invoice),
        lines: found.lines.map((l) => ({
          modelId: l.model_id,
          description: l.description,
          quantity: Number(l.quantity),
          computeMs: Number(l.compute_ms),
          unitPriceMicros: Number(l.unit_price_micros),
          amountMicros: Number(l.amount_micros),
        })),
      },
      200,
    );
  });
}
