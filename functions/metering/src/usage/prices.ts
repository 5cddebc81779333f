import type { Device } from "@maas/db";

/** One price row as metering uses it (integer micro-units). */
export interface PriceRow {
  /** Null for a tenant override. */
  plan: string | null;
  /** Null for a plan price. */
  tenantId: string | null;
  device: Device;
  currency: string;
  per1kInferencesMicros: bigint;
  perComputeSecondMicros: bigint;
  validFrom: Date;
}

/** The plan whose prices apply to every plan without rows of its own. */
export const DEFAULT_PLAN = "default";

/**
 * Cost of one metered request, computed once at metering and stored with its row:
 *
 *   cost = items / 1000 × per_1k + compute_ms / 1000 × per_compute_second
 *        = (items × per_1k + compute_ms × per_compute_second) / 1000
 *
 * in exact integer arithmetic, rounded half up to a whole micro-unit ONCE per request (never per
 * term, never again at invoicing: an invoice is the plain sum of these stored integers, so it adds
 * up to the micro-unit). Sub-micro remainders are below 0.000001 of the currency unit per request.
 *
 * @example
 * costMicros(1, 12, { per1kInferencesMicros: 50_000n, perComputeSecondMicros: 10_000n }); // 170n
 */
export function costMicros(
  items: number,
  computeMs: number,
  price: Pick<PriceRow, "per1kInferencesMicros" | "perComputeSecondMicros">,
): bigint {
  const numerator =
    BigInt(items) * price.per1kInferencesMicros + BigInt(computeMs) * price.perComputeSecondMicros;
  return (numerator + 500n) / 1000n;
}

/**
 * Picks the price in force: the tenant's own override for the device, else its plan's, else the
 * default plan's; among those, the row with the latest `validFrom` not after `at`.
 *
 * @example
 * const book = new PriceBook(rows);
 * const price = book.priceFor({ tenantId: "tnt_1", plan: "pro", device: "gpu", at: new Date() });
 */
export class PriceBook {
  readonly #byKey = new Map<string, PriceRow[]>();

  constructor(rows: readonly PriceRow[]) {
    for (const row of rows) {
      const key = row.tenantId !== null ? `t:${row.tenantId}:${row.device}` : `p:${row.plan}:${row.device}`;
      const list = this.#byKey.get(key) ?? [];
      list.push(row);
      this.#byKey.set(key, list);
    }
    // Newest first, so the first row not after `at` is the one in force.
    for (const list of this.#byKey.values())
      list.sort((a, b) => b.validFrom.getTime() - a.validFrom.getTime());
  }

  priceFor(q: { tenantId: string; plan: string; device: Device; at: Date }): PriceRow | undefined {
    for (const key of [
      `t:${q.tenantId}:${q.device}`,
      `p:${q.plan}:${q.device}`,
      `p:${DEFAULT_PLAN}:${q.device}`,
    ]) {
      const row = this.#byKey.get(key)?.find((r) => r.validFrom.getTime() <= q.at.getTime());
      if (row) return row;
    }
    return undefined;
  }
}
