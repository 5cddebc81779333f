import type { Database } from "@maas/db";
import type { SpendSink } from "@maas/fn-metering/usage";
import { type EventHandler, NonRetriableError } from "@maas/runtime";
import type { Kysely } from "kysely";
import { z } from "zod";
import { closePeriods } from "../billing/close-period.js";
import { dailyRollup } from "../billing/daily-rollup.js";

/** The PingSource payloads of knative/base/billing-schedules.yaml (`period` only for a manual rerun). */
const pingData = z.discriminatedUnion("job", [
  z.object({ job: z.literal("daily-rollup") }),
  z.object({
    job: z.literal("close-period"),
    period: z
      .string()
      .regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/)
      .optional(),
  }),
]);

export interface PingDeps {
  db: Kysely<Database>;
  spend?: SpendSink;
  clock?: () => Date;
  currency?: string;
}

/**
 * `dev.knative.sources.ping`: runs the job the PingSource names. Both jobs are idempotent, so the
 * broker's at-least-once redelivery (or an operator's manual rerun) changes nothing.
 */
export function pingHandler(deps: PingDeps): EventHandler {
  return async function handlePing(event, { logger }) {
    const parsed = pingData.safeParse(event.data);
    if (!parsed.success) throw new NonRetriableError(`unknown billing job: ${JSON.stringify(event.data)}`);
    logger.info({ job: parsed.data.job }, "dev.knative.sources.ping received");
    if (parsed.data.job === "daily-rollup") {
      const r = await dailyRollup(deps);
      logger.info(
        { period: r.period, tenants: r.tenants, totalMicros: r.totalMicros.toString() },
        "daily rollup done",
      );
      return;
    }
    const closed = await closePeriods({
      db: deps.db,
      ...(deps.clock ? { clock: deps.clock } : {}),
      ...(deps.currency ? { currency: deps.currency } : {}),
      ...(parsed.data.period ? { period: parsed.data.period } : {}),
    });
    logger.info(
      {
        invoices: closed.filter((c) => c.created).length,
        alreadyClosed: closed.filter((c) => !c.created).length,
      },
      "period close done",
    );
  };
}
