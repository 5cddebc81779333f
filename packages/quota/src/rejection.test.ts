import { describe, expect, it } from "vitest";
import { rateLimitHeaders, toAppError } from "./rejection.js";
import type { RejectedDecision } from "./types.js";

const rejected = (over: Partial<RejectedDecision>): RejectedDecision => ({
  allowed: false,
  limit: "rate",
  value: 50,
  used: 50,
  retryAfterSeconds: 1,
  headers: { "Retry-After": "1", "RateLimit-Policy": '"qps";q=50;w=1', RateLimit: '"qps";r=0;t=1' },
  degraded: false,
  ...over,
});

describe("rateLimitHeaders", () => {
  it("renders both policies in the draft-ietf-httpapi-ratelimit-headers syntax", () => {
    expect(
      rateLimitHeaders({
        quotas: { maxQps: 50, maxConcurrency: 4 },
        rateRemaining: 12.7,
        rateResetSeconds: 0.3,
        concurrencyRemaining: -1,
      }),
    ).toEqual({
      "RateLimit-Policy": '"qps";q=50;w=1, "concurrency";q=4;qu="concurrent-requests"',
      RateLimit: '"qps";r=12;t=1, "concurrency";r=0',
    });
  });
});

describe("toAppError", () => {
  it("maps each limit to its code and status, naming the limit and its value", () => {
    const cases = [
      ["rate", "RATE_LIMITED", 429],
      ["concurrency", "CONCURRENCY_LIMITED", 429],
      ["budget", "BUDGET_EXHAUSTED", 402],
      ["unavailable", "OVERLOADED", 503],
    ] as const;
    for (const [limit, code, status] of cases) {
      const err = toAppError(rejected({ limit, value: 7, used: 7 }));
      expect([err.code, err.status]).toEqual([code, status]);
      expect(err.details).toEqual({ limit, value: 7, used: 7 });
      expect(err.message).toContain(limit === "unavailable" ? "unavailable" : "7");
    }
  });

  it("carries Retry-After as retryAfterSeconds (written once by the error handler) and keeps the RateLimit headers", () => {
    const err = toAppError(rejected({ retryAfterSeconds: 3 }));
    expect(err.retryAfterSeconds).toBe(3);
    expect(err.headers).toEqual({ "RateLimit-Policy": '"qps";q=50;w=1', RateLimit: '"qps";r=0;t=1' });
  });
});
