import { type Database, newId, withSystem } from "@maas/db";
import { createEvent, events } from "@maas/events";
import { writeOutbox } from "@maas/events/outbox";
import { periodEnd, periodLockKey, periodOfDate, periodStart } from "@maas/fn-metering/usage";
import { type Kysely, sql } from "kysely";

export interface CloseOptions {
  db: Kysely<Database>;
  clock?: () => Date;
  /** ISO 4217 code on invoices (prices are in this currency). */
  currency?: string;
  /** CloudEvent source of `invoice.issued`. */
  source?: string;
}

export interface ClosedInvoice {
  tenantId: string;
  period: string;
  invoiceId: string;
  /** False when the invoice already existed (a rerun, or a concurrent close won). */
  created: boolean;
  totalMicros: bigint;
}

/**
 * Monthly close: every (tenant, period) with usage before the current period and no invoice yet
 * becomes one invoice with one line per model, `invoice.issued` written to the outbox in the same
 * transaction. Idempotent per (tenant, period): an exclusive advisory lock serialises closers (and
 * waits for metering batches still placing rows in that period), the invoice row is re-checked under
 * the lock, and UNIQUE (tenant_id, period) with ON CONFLICT DO NOTHING is the last word. Missed
 * months are caught up, since every closable pair is found, not just last month's.
 *
 * @example
 * const closed = await closePeriods({ db }); // [{ tenantId, period: "2026-01", invoiceId, created: true, … }]
 */
export async function closePeriods(options: CloseOptions & { period?: string }): Promise<ClosedInvoice[]> {
  const now = (options.clock ?? (() => new Date()))();
  const current = periodOfDate(now);
  if (options.period !== undefined && options.period >= current) {
    throw new Error(`period ${options.period} is not over yet (current period ${current})`);
  }
  const pending = await withSystem(options.db, async (trx) => {
    let q = trx
      .selectFrom("usage_events as u")
      .select(["u.tenant_id", "u.period"])
      .distinct()
      .where("u.period", "<", current)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("invoices as i")
              .select(sql.lit(1).as("one"))
              .whereRef("i.tenant_id", "=", "u.tenant_id")
              .whereRef("i.period", "=", "u.period"),
          ),
        ),
      )
      .orderBy("u.period")
      .orderBy("u.tenant_id");
    if (options.period !== undefined) q = q.where("u.period", "=", options.period);
    return q.execute();
  });
  const out: ClosedInvoice[] = [];
  for (const p of pending) out.push(await closeTenantPeriod(options, p.tenant_id, p.period));
  return out;
}

/** Closes one tenant's period (see closePeriods); safe to run twice or concurrently. */
export async function closeTenantPeriod(
  options: CloseOptions,
  tenantId: string,
  period: string,
): Promise<ClosedInvoice> {
  const currency = options.currency ?? "EUR";
  return withSystem(options.db, async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended(${periodLockKey(tenantId, period)}, 0))`.execute(
      trx,
    );
    const existing = await trx
      .selectFrom("invoices")
      .select(["id", "total_micros"])
      .where("tenant_id", "=", tenantId)
      .where("period", "=", period)
      .executeTakeFirst();
    if (existing) {
      return { tenantId, period, invoiceId: existing.id, created: false, totalMicros: existing.total_micros };
    }
    const sums = await trx
      .selectFrom("usage_events as u")
      .leftJoin("models as m", "m.id", "u.model_id")
      .select((eb) => [
        "u.model_id",
        eb.fn.max("m.name").as("name"),
        eb.fn.countAll<bigint | string>().as("quantity"),
        eb.fn.sum<bigint | string>("u.compute_ms").as("compute_ms"),
        eb.fn.sum<bigint | string>("u.cost_micros").as("amount"),
      ])
      .where("u.tenant_id", "=", tenantId)
      .where("u.period", "=", period)
      .groupBy("u.model_id")
      .orderBy("u.model_id")
      .execute();
    const lines = sums.map((s) => {
      const quantity = BigInt(s.quantity);
      const amount = BigInt(s.amount);
      return {
        modelId: s.model_id,
        description: `Inferences of model ${s.name ?? "(deleted)"} (${s.model_id})`,
        quantity,
        computeMs: BigInt(s.compute_ms),
        // Average per inference, rounded half up: informative. The amount is the exact sum of the
        // costs metered per request, so lines and total add up to the micro-unit.
        unitPrice: quantity === 0n ? 0n : (amount * 2n + quantity) / (2n * quantity),
        amount,
      };
    });
    const total = lines.reduce((acc, l) => acc + l.amount, 0n);
    const requests = lines.reduce((acc, l) => acc + l.quantity, 0n);
    const invoiceId = newId("inv");
    const inserted = await trx
      .insertInto("invoices")
      .values({
        id: invoiceId,
        tenant_id: tenantId,
        period,
        currency,
        requests,
        total_micros: total,
        period_start: periodStart(period),
        period_end: periodEnd(period),
      })
      .onConflict((oc) => oc.columns(["tenant_id", "period"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) {
      // Unreachable while every closer takes the lock; kept as the constraint's safety net.
      const winner = await trx
        .selectFrom("invoices")
        .select(["id", "total_micros"])
        .where("tenant_id", "=", tenantId)
        .where("period", "=", period)
        .executeTakeFirstOrThrow();
      return { tenantId, period, invoiceId: winner.id, created: false, totalMicros: winner.total_micros };
    }
    if (lines.length > 0) {
      await trx
        .insertInto("invoice_lines")
        .values(
          lines.map((l) => ({
            tenant_id: tenantId,
            invoice_id: invoiceId,
            model_id: l.modelId,
            description: l.description,
            quantity: l.quantity,
            compute_ms: l.computeMs,
            unit_price_micros: l.unitPrice,
            amount_micros: l.amount,
          })),
        )
        .execute();
    }
    await writeOutbox(trx, [
      createEvent(events.invoiceIssued, {
        source: options.source ?? "/functions/billing",
        data: {
          tenantId,
          invoiceId,
          periodStart: periodStart(period).toISOString(),
          periodEnd: periodEnd(period).toISOString(),
          currency,
          totalMicros: Number(total),
          lines: lines.map((l) => ({
            description: l.description,
            quantity: Number(l.quantity),
            unitPriceMicros: Number(l.unitPrice),
            amountMicros: Number(l.amount),
          })),
        },
      }),
    ]);
    return { tenantId, period, invoiceId, created: true, totalMicros: total };
  });
}
