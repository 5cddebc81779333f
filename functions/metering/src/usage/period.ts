/** The billing period (`YYYY-MM`, UTC) of an instant. Same rule as `@maas/quota`'s `periodOf`. */
export function periodOfDate(at: Date): string {
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** First instant of a period (`2026-01` → 2026-01-01T00:00:00Z). */
export function periodStart(period: string): Date {
  const [y, m] = period.split("-").map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1, 1));
}

/** First instant after a period. */
export function periodEnd(period: string): Date {
  const [y, m] = period.split("-").map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1));
}

/** The period before `period`. */
export function previousPeriod(period: string): string {
  const start = periodStart(period);
  return periodOfDate(new Date(start.getTime() - 1));
}

/**
 * The advisory-lock key shared by metering (shared lock while it places rows in a period) and the
 * monthly close (exclusive lock while it closes one tenant's period): a close never sums a period
 * while rows are being added to it, and rows arriving after it see the invoice and move on.
 */
export function periodLockKey(tenantId: string, period: string): string {
  return `maas:billing:${tenantId}:${period}`;
}
