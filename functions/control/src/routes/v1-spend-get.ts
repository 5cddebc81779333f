import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";
import { currentPeriod, PeriodSchema } from "./v1-usage-get.js";

const route = createRoute({
  method: "get",
  path: "/v1/spend",
  tags: ["billing"],
  summary: "Month-to-date spend against the monthly budget",
  security: [{ bearer: [] }],
  middleware: [requirePermission("usage:read")] as const,
  responses: {
    200: jsonResponse(
      z.object({
        period: PeriodSchema,
        spentMicros: z.number().openapi({ description: "Metered cost so far (Postgres, the truth)" }),
        budgetMicros: z.number(),
        remainingMicros: z.number(),
        percentUsed: z.number(),
      }),
      "Spend of the open period",
    ),
    ...errorResponses(),
  },
});

export function registerV1SpendGet(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const period = currentPeriod(services.clock());
    const { spent, budget } = await inTenant(services.db, c, async (trx) => {
      const s = await trx
        .selectFrom("usage_events")
        .select((eb) => eb.fn.sum<string | null>("cost_micros").as("cost"))
        .where("period", "=", period)
        .executeTakeFirstOrThrow();
      const q = await trx.selectFrom("quotas").select("monthly_budget_micros").executeTakeFirst();
      return { spent: Number(s.cost ?? 0), budget: Number(q?.monthly_budget_micros ?? 0n) };
    });
    return c.json(
      {
        period,
        spentMicros: spent,
        budgetMicros: budget,
        remainingMicros: Math.max(0, budget - spent),
        percentUsed: budget === 0 ? 0 : Math.round((spent / budget) * 10_000) / 100,
      },
      200,
    );
  });
}
