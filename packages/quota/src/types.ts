/** A tenant's limits, as stored in the `quotas` table (money in micro-units, sizes in bytes). */
export interface Quotas {
  maxModels: number;
  maxStorageBytes: bigint;
  maxQps: number;
  maxConcurrency: number;
  monthlyBudgetMicros: bigint;
}

/** The `quotas` table's column defaults: what a tenant without a row gets. */
export const DEFAULT_QUOTAS: Readonly<Quotas> = Object.freeze({
  maxModels: 10,
  maxStorageBytes: 10_737_418_240n,
  maxQps: 10,
  maxConcurrency: 4,
  monthlyBudgetMicros: 100_000_000n,
});

/**
 * A concurrency slot. `redis` leases live in the tenant's lease ZSET and expire on their own after
 * the lease time (a crashed holder cannot leak them); `local` leases were taken from the in-process
 * semaphore while Redis was unreachable; `none` is the fail-open policy's placeholder.
 */
export interface Lease {
  tenantId: string;
  id: string;
  /** Epoch milliseconds after which the slot frees itself unless renewed. */
  expiresAt: number;
  source: "redis" | "local" | "none";
}

export type LimitName = "rate" | "concurrency" | "budget";

export interface AllowedDecision {
  allowed: true;
  lease: Lease;
  /** True when Redis was unreachable and the Redis-down policy decided. */
  degraded: boolean;
  /** `RateLimit-Policy` / `RateLimit` headers to put on the successful response too. */
  headers: Record<string, string>;
}

export interface RejectedDecision {
  allowed: false;
  /** `unavailable`: Redis was unreachable under the fail-closed policy. */
  limit: LimitName | "unavailable";
  /** The limit's value: requests per second, concurrent requests, or budget micro-units. */
  value: number;
  /** What was used when the decision was taken (same unit as `value`). */
  used: number;
  retryAfterSeconds: number;
  headers: Record<string, string>;
  degraded: boolean;
}

export type Decision = AllowedDecision | RejectedDecision;

export interface DecideInput {
  tenantId: string;
  /** The request's estimated price; admitted only if month-to-date spend + this ≤ the budget. */
  estimatedCostMicros: number;
  /** Epoch milliseconds; defaults to `Date.now()`. */
  now?: number;
}

/** The few logger methods the module uses (pino's signature). */
export interface QuotaLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: QuotaLogger = { info() {}, warn() {}, error() {} };
