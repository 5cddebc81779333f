import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { Database } from "@maas/db";
import { type Kysely, sql, type Transaction } from "kysely";
import type { ControlApp } from "../control-env.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import type { ControlServices } from "../services.js";

export const PeriodSchema = z
  .string()
  .regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/, "expected YYYY-MM")
  .openapi({ example: "2026-01" });

/** The current UTC period. */
export function currentPeriod(now: Date): string {
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
}

export interface UsageDay {
  date: string;
  modelId: string;
  requests: number;
  computeMs: number;
  costMicros: number;
}

/** Usage by UTC day and model for a period, from the hourly rollups (one row per day × model). */
export async function usageByDay(
  trx: Transaction<Database> | Kysely<Database>,
  period: string,
): Promise<UsageDay[]> {
  const [y, m] = period.split("-").map(Number) as [number, number];
  const { rows } = await sql<{
    day: string;
    model_id: string;
    requests: string;
    compute_ms: string;
    cost: string;
  }>`
    select to_char(date_trunc('day', hour, 'UTC') at time zone 'UTC', 'YYYY-MM-DD') as day, model_id,
           sum(requests)::text as requests, sum(compute_ms)::text as compute_ms, sum(cost_micros)::text as cost
    from usage_hourly
    where hour >= ${new Date(Date.UTC(y, m - 1, 1))} and hour < ${new Date(Date.UTC(y, m, 1))}
    group by 1, 2 order by 1, 2`.execute(trx);
  return rows.map((r) => ({
    date: r.day,
    modelId: r.model_id,
    requests: Number(r.requests),
    computeMs: Number(r.compute_ms),
    costMicros: Number(r.cost),
  }));
}

const route = createRoute({
  method: "get",
  path: "/v1/usage",
  tags: ["billing"],
  summary: "Usage by day and model for a billing period",
  security: [{ bearer: [] }],
  middleware: [requirePermission("usage:read")] as const,
  request: { query: z.object({ period: PeriodSchema.optional() }) },
  responses: {
    200: jsonResponse(
      z.object({
        period: PeriodSchema,
        days: z.array(
          z.object({
            date: z.string(),
            modelId: z.string(),
            requests: z.number(),
            computeMs: z.number(),
            costMicros: z.number(),
          }),
        ),
        totals: z.object({
          requests: z.number(),
          costMicros: z.number(),
          lateRequests: z
            .number()
            .openapi({ description: "Usage of an already invoiced month, counted in this period" }),
          lateCostMicros: z.number(),
        }),
      }),
      "Usage of the period",
    ),
    ...errorResponses(),
  },
});

export function registerV1UsageGet(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const period = c.req.valid("query").period ?? currentPeriod(services.clock());
    const out = await inTenant(services.db, c, async (trx) => {
      const days = await usageByDay(trx, period);
      const totals = await trx
        .selectFrom("usage_events")
        .select((eb) => [
          eb.fn.countAll<string>().as("n"),
          eb.fn.coalesce(eb.fn.sum<string>("cost_micros"), sql<string>`0`).as("cost"),
          sql<string>`count(*) filter (where late)`.as("late_n"),
          sql<string>`coalesce(sum(cost_micros) filter (where late), 0)`.as("late_cost"),
        ])
        .where("period", "=", period)
        .executeTakeFirstOrThrow();
      return { days, totals };
    });
    return c.json(
      {
        period,
        days: out.days,
        totals: {
          requests: Number(out.totals.n),
          costMicros: Number(out.totals.cost),
          lateRequests: Number(out.totals.late_n),
          lateCostMicros: Number(out.totals.late_cost),
        },
      },
      200,
    );
  });
}
