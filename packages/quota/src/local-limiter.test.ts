import { describe, expect, it } from "vitest";
import { LocalLimiter, perInstanceShare } from "./local-limiter.js";

describe("perInstanceShare", () => {
  it("splits a limit across replicas, keeping at least one unless the limit is zero", () => {
    expect(perInstanceShare(50, 3)).toBe(16);
    expect(perInstanceShare(2, 5)).toBe(1);
    expect(perInstanceShare(0, 5)).toBe(0);
    expect(perInstanceShare(10, 0)).toBe(10);
  });
});

describe("LocalLimiter", () => {
  it("refills the token bucket at the instance's share per second", () => {
    const local = new LocalLimiter(2);
    const q = { maxQps: 20, maxConcurrency: 1000 };
    let admitted = 0;
    for (let i = 0; i < 30; i++) {
      const v = local.acquire("tnt_a", q, 0);
      if (v.allowed) {
        admitted++;
        local.release("tnt_a");
      } else expect(v).toEqual({ allowed: false, limit: "rate", value: 10, used: 10 });
    }
    expect(admitted).toBe(10);
    // Half a second later, half the share is back.
    let later = 0;
    for (let i = 0; i < 30; i++) {
      const v = local.acquire("tnt_a", q, 500);
      if (v.allowed) {
        later++;
        local.release("tnt_a");
      }
    }
    expect(later).toBe(5);
  });

  it("holds at most the instance's share of concurrency, per tenant", () => {
    const local = new LocalLimiter(2);
    const q = { maxQps: 1000, maxConcurrency: 4 };
    expect(local.acquire("tnt_a", q, 0).allowed).toBe(true);
    expect(local.acquire("tnt_a", q, 0).allowed).toBe(true);
    expect(local.acquire("tnt_a", q, 0)).toEqual({ allowed: false, limit: "concurrency", value: 2, used: 2 });
    expect(local.acquire("tnt_b", q, 0).allowed).toBe(true);
    local.release("tnt_a");
    expect(local.inFlight("tnt_a")).toBe(1);
    expect(local.acquire("tnt_a", q, 0).allowed).toBe(true);
  });
});
