import type { Quotas } from "./types.js";

/** One replica's share of a cluster-wide limit: limit / replicas, at least 1 unless the limit is 0. */
export function perInstanceShare(limit: number, expectedReplicas: number): number {
  if (limit <= 0) return 0;
  return Math.max(1, Math.floor(limit / Math.max(1, expectedReplicas)));
}

interface Bucket {
  tokens: number;
  refilledAt: number;
}

export type LocalVerdict =
  | { allowed: true; inflight: number; rateRemaining: number }
  | { allowed: false; limit: "rate" | "concurrency"; value: number; used: number };

/**
 * The in-process limits used while Redis is unreachable: a token bucket per tenant refilling at
 * `maxQps / expectedReplicas` per second (burst of one second's share) and a counting semaphore of
 * `maxConcurrency / expectedReplicas` slots. Together the replicas then admit about what Redis
 * would have.
 *
 * @example
 * const local = new LocalLimiter(3);
 * local.acquire("tnt_1", quotas, Date.now()); // { allowed: true, … }
 * local.release("tnt_1");
 */
export class LocalLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly inflight = new Map<string, number>();

  constructor(private readonly expectedReplicas: number) {}

  acquire(tenantId: string, quotas: Pick<Quotas, "maxQps" | "maxConcurrency">, now: number): LocalVerdict {
    const rate = perInstanceShare(quotas.maxQps, this.expectedReplicas);
    const slots = perInstanceShare(quotas.maxConcurrency, this.expectedReplicas);
    const bucket = this.buckets.get(tenantId) ?? { tokens: rate, refilledAt: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.refilledAt) / 1000) * rate);
    bucket.refilledAt = now;
    this.buckets.set(tenantId, bucket);
    if (bucket.tokens < 1) return { allowed: false, limit: "rate", value: rate, used: rate };
    const held = this.inflight.get(tenantId) ?? 0;
    if (held >= slots) return { allowed: false, limit: "concurrency", value: slots, used: held };
    bucket.tokens -= 1;
    this.inflight.set(tenantId, held + 1);
    return { allowed: true, inflight: held + 1, rateRemaining: Math.floor(bucket.tokens) };
  }

  release(tenantId: string): void {
    const held = this.inflight.get(tenantId) ?? 0;
    if (held <= 1) this.inflight.delete(tenantId);
    else this.inflight.set(tenantId, held - 1);
  }

  inFlight(tenantId: string): number {
    return this.inflight.get(tenantId) ?? 0;
  }
}
