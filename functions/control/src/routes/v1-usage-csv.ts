import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses } from "../schemas/common.js";
import type { ControlServices } from "../services.js";
import { currentPeriod, PeriodSchema, usageByDay } from "./v1-usage-get.js";

const route = createRoute({
  method: "get",
  path: "/v1/usage.csv",
  tags: ["billing"],
  summary: "Usage by day and model for a period, as CSV (RFC 4180)",
  security: [{ bearer: [] }],
  middleware: [requirePermission("usage:read")] as const,
  request: { query: z.object({ period: PeriodSchema.optional() }) },
  responses: {
    200: {
      description: "CSV: date,model_id,requests,compute_ms,cost_micros",
      content: { "text/csv": { schema: z.string() } },
    },
    ...errorResponses(),
  },
});

export function registerV1UsageCsv(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const period = c.req.valid("query").period ?? currentPeriod(services.clock());
    const days = await inTenant(services.db, c, (trx) => usageByDay(trx, period));
    // Every field is an id, a date or an integer: nothing needs quoting.
    const lines = ["date,model_id,requests,compute_ms,cost_micros"];
    for (const d of days) lines.push(`${d.date},${d.modelId},${d.requests},${d.computeMs},${d.costMicros}`);
    return c.body(`${lines.join("\r\n")}\r\n`, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="usage-${period}.csv"`,
    });
  });
}
