/**
 * Redis key layout. Every key of one tenant carries the `{tnt_…}` hash tag so the multi-key scripts
 * stay on one slot if Redis is ever clustered.
 */
export interface QuotaKeys {
  /** Prefix handed to @upstash/ratelimit; it appends `:<identifier>:<window>`. */
  ratePrefix: string;
  rateIdentifier(tenantId: string): string;
  rateWindow(tenantId: string, window: number): string;
  leases(tenantId: string): string;
  spend(tenantId: string, period: string): string;
  threshold(tenantId: string, period: string, percent: number): string;
}

export function quotaKeys(prefix: string): QuotaKeys {
  const ratePrefix = `${prefix}rl`;
  return {
    ratePrefix,
    rateIdentifier: (t) => `{${t}}`,
    rateWindow: (t, w) => `${ratePrefix}:{${t}}:${w}`,
    leases: (t) => `${prefix}lease:{${t}}`,
    spend: (t, p) => `${prefix}spend:{${t}}:${p}`,
    threshold: (t, p, pct) => `${prefix}threshold:{${t}}:${p}:${pct}`,
  };
}

/** The billing period (`YYYY-MM`, UTC) that contains `now`. */
export function periodOf(now: number): string {
  const d = new Date(now);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** Whole seconds from `now` to the start of the next UTC month (at least 1). */
export function secondsToNextPeriod(now: number): number {
  const d = new Date(now);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return Math.max(1, Math.ceil((next - now) / 1000));
}

/** Spend and threshold keys outlive their month by a few days so late metering still lands. */
export const PERIOD_KEY_TTL_SECONDS = 40 * 24 * 3600;
