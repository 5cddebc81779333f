import { AppError } from "@maas/errors";
import type { Quotas, RejectedDecision } from "./types.js";

// Header syntax of draft-ietf-httpapi-ratelimit-headers (-09): `RateLimit-Policy` lists each policy
// as a structured-field item with q (quota), w (window, seconds) and qu (quota unit); `RateLimit`
// gives r (remaining) and t (seconds until the quota resets) per policy.

export const RATE_POLICY = "qps";
export const CONCURRENCY_POLICY = "concurrency";

export interface RateLimitState {
  quotas: Pick<Quotas, "maxQps" | "maxConcurrency">;
  /** Requests left in the sliding window. */
  rateRemaining: number;
  /** Seconds until the rate window frees a request. */
  rateResetSeconds: number;
  /** Free concurrency slots. */
  concurrencyRemaining: number;
}

/**
 * `RateLimit-Policy` and `RateLimit` for both request policies.
 *
 * @example
 * rateLimitHeaders({ quotas: { maxQps: 50, maxConcurrency: 4 }, rateRemaining: 0, rateResetSeconds: 1, concurrencyRemaining: 3 });
 * // { "RateLimit-Policy": '"qps";q=50;w=1, "concurrency";q=4;qu="concurrent-requests"',
 * //   "RateLimit": '"qps";r=0;t=1, "concurrency";r=3' }
 */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const { maxQps, maxConcurrency } = state.quotas;
  const r = (n: number) => Math.max(0, Math.floor(n));
  return {
    "RateLimit-Policy": `"${RATE_POLICY}";q=${maxQps};w=1, "${CONCURRENCY_POLICY}";q=${maxConcurrency};qu="concurrent-requests"`,
    RateLimit: `"${RATE_POLICY}";r=${r(state.rateRemaining)};t=${Math.max(0, Math.ceil(state.rateResetSeconds))}, "${CONCURRENCY_POLICY}";r=${r(state.concurrencyRemaining)}`,
  };
}

const MESSAGES: Record<RejectedDecision["limit"], (value: number) => string> = {
  rate: (v) => `rate limit of ${v} requests per second exceeded`,
  concurrency: (v) => `concurrency limit of ${v} in-flight requests reached`,
  budget: (v) => `monthly budget of ${v} micro-units exhausted`,
  unavailable: () => "quota service unavailable",
};

/**
 * The error a rejected decision answers with: 429 RATE_LIMITED / CONCURRENCY_LIMITED with
 * Retry-After and the RateLimit headers, 402 BUDGET_EXHAUSTED for the budget, 503 OVERLOADED when
 * Redis is down under the fail-closed policy. The body's details name the limit and its value.
 *
 * @example
 * const d = await quota.decide({ tenantId, estimatedCostMicros: 1200 });
 * if (!d.allowed) throw toAppError(d);
 */
export function toAppError(decision: RejectedDecision): AppError {
  const code =
    decision.limit === "rate"
      ? "RATE_LIMITED"
      : decision.limit === "concurrency"
        ? "CONCURRENCY_LIMITED"
        : decision.limit === "budget"
          ? "BUDGET_EXHAUSTED"
          : "OVERLOADED";
  // Retry-After travels as retryAfterSeconds: the runtime's error handler writes it once.
  const { "Retry-After": _retryAfter, ...headers } = decision.headers;
  return new AppError(code, MESSAGES[decision.limit](decision.value), {
    details: { limit: decision.limit, value: decision.value, used: decision.used },
    retryAfterSeconds: decision.retryAfterSeconds,
    headers,
  });
}
