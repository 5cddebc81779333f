import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createQuotaDecider, type DecisionMode } from "./quota-decider.js";
import { StaticQuotaSource } from "./quota-source.js";
import { toAppError } from "./rejection.js";
import { dropPrefix, quotaRedis, testTenant, uniquePrefix } from "./testing/redis.js";
import type { Decision } from "./types.js";

// Two decision instances, each with its own connection, stand for two gateway replicas sharing Redis.
let redisA: Redis;
let redisB: Redis;
const prefixes: string[] = [];

beforeAll(async () => {
  redisA = quotaRedis();
  redisB = quotaRedis();
  await Promise.all([redisA.connect(), redisB.connect()]);
});
afterEach(async () => {
  for (const p of prefixes.splice(0)) await dropPrefix(redisA, p);
});
afterAll(() => {
  redisA.disconnect();
  redisB.disconnect();
});

async function pair(
  name: string,
  quotas: StaticQuotaSource,
  mode: DecisionMode = "pipeline",
  leaseMs = 30_000,
  releaseBatchMs = 0,
  coalesceWrites = false,
) {
  const keyPrefix = uniquePrefix(name);
  prefixes.push(keyPrefix);
  const common = { quotas, keyPrefix, mode, leaseMs, redisTimeoutMs: 500, releaseBatchMs, coalesceWrites };
  const a = createQuotaDecider({ redis: redisA, ...common });
  const b = createQuotaDecider({ redis: redisB, ...common });
  await Promise.all([a.warmUp(), b.warmUp()]);
  return [a, b] as const;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Each mode with and without coalesced writes (the gateway's default): the limits hold the same.
describe.each([
  ["pipeline", false],
  ["pipeline", true],
  ["script", false],
  ["script", true],
] as const)("QuotaDecider (%s mode, coalesced writes: %s) against Redis", (mode, coalesce) => {
  it("admits the QPS limit within ±10% at twice the offered load, across two instances", async () => {
    const tenantId = testTenant();
    const limit = 50;
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: limit, maxConcurrency: 1000 } });
    const [a, b] = await pair("rate", quotas, mode, 30_000, 0, coalesce);
    const offered = 2 * limit;
    const warmMs = 1000;
    const measureMs = 4000;
    const start = Date.now();
    let sent = 0;
    let admittedInWindow = 0;
    const inflight: Promise<void>[] = [];
    while (Date.now() - start < warmMs + measureMs) {
      const due = Math.floor(((Date.now() - start) / 1000) * offered);
      while (sent < due) {
        const decider = sent % 2 === 0 ? a : b;
        sent++;
        inflight.push(
          decider.decide({ tenantId, estimatedCostMicros: 0 }).then(async (d) => {
            const t = Date.now() - start;
            if (d.allowed) {
              if (t >= warmMs && t < warmMs + measureMs) admittedInWindow++;
              await decider.release(d.lease);
            }
          }),
        );
      }
      await sleep(5);
    }
    await Promise.all(inflight);
    const admittedQps = admittedInWindow / (measureMs / 1000);
    expect(sent).toBeGreaterThanOrEqual(offered * 4.5);
    expect(Math.abs(admittedQps - limit) / limit).toBeLessThanOrEqual(0.1);
  }, 20_000);

  it("never lets in-flight exceed the concurrency limit under parallel acquire", async () => {
    const tenantId = testTenant();
    const limit = 5;
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 100_000, maxConcurrency: limit } });
    // Batched releases (the gateway's default) must hold the limit just the same.
    const [a, b] = await pair("conc", quotas, mode, 30_000, 2, coalesce);
    let current = 0;
    let maxSeen = 0;
    let admitted = 0;
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const decider = i % 2 === 0 ? a : b;
          const d = await decider.decide({ tenantId, estimatedCostMicros: 0 });
          if (!d.allowed) {
            expect(d.limit).toBe("concurrency");
            return;
          }
          admitted++;
          current++;
          maxSeen = Math.max(maxSeen, current);
          await sleep(Math.random() * 10);
          current--;
          await decider.release(d.lease);
        }),
      );
    }
    expect(maxSeen).toBeLessThanOrEqual(limit);
    expect(maxSeen).toBe(limit);
    expect(admitted).toBeGreaterThanOrEqual(10 * limit);
    expect(await a.inFlight(tenantId)).toBe(0);
  });

  it("batched releases: held until they travel, first in the instance's next decision, or after the batch time", async () => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 100_000, maxConcurrency: 1 } });
    const batchMs = 300;
    const [a, b] = await pair("batch", quotas, mode, 30_000, batchMs, coalesce);
    const first = await a.decide({ tenantId, estimatedCostMicros: 0 });
    if (!first.allowed) throw new Error("expected admission");
    const released = a.release(first.lease);
    // Not sent yet: the slot is still taken for the other replica.
    expect(await b.inFlight(tenantId)).toBe(1);
    expect(await b.decide({ tenantId, estimatedCostMicros: 0 })).toMatchObject({
      allowed: false,
      limit: "concurrency",
    });
    // A's next decision carries the release ahead of its own scripts: the one slot is free for it.
    const second = await a.decide({ tenantId, estimatedCostMicros: 0 });
    expect(second.allowed).toBe(true);
    await released;
    if (!second.allowed) return;
    // No decision follows this release: the timer sends it.
    const started = Date.now();
    await a.release(second.lease);
    expect(Date.now() - started).toBeGreaterThanOrEqual(batchMs - 20);
    expect(await b.inFlight(tenantId)).toBe(0);
    expect((await b.decide({ tenantId, estimatedCostMicros: 0 })).allowed).toBe(true);
  });

  it("frees a crashed holder's slot after the lease time", async () => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 1000, maxConcurrency: 2 } });
    const [a, b] = await pair("lease", quotas, mode, 400, 0, coalesce);
    // Instance A takes both slots and "crashes" (never releases).
    expect((await a.decide({ tenantId, estimatedCostMicros: 0 })).allowed).toBe(true);
    expect((await a.decide({ tenantId, estimatedCostMicros: 0 })).allowed).toBe(true);
    const blocked = await b.decide({ tenantId, estimatedCostMicros: 0 });
    expect(blocked).toMatchObject({ allowed: false, limit: "concurrency", value: 2, used: 2 });
    await sleep(450);
    expect((await b.decide({ tenantId, estimatedCostMicros: 0 })).allowed).toBe(true);
  });

  it("renews a live lease and refuses to revive an expired one", async () => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 1000, maxConcurrency: 1 } });
    const [a, b] = await pair("renew", quotas, mode, 400, 0, coalesce);
    const d = await a.decide({ tenantId, estimatedCostMicros: 0 });
    if (!d.allowed) throw new Error("expected admission");
    await sleep(250);
    const renewed = await a.renew(d.lease);
    expect(renewed?.expiresAt).toBeGreaterThan(d.lease.expiresAt);
    await sleep(250); // past the original expiry, inside the renewed one
    expect((await b.decide({ tenantId, estimatedCostMicros: 0 })).allowed).toBe(false);
    await sleep(250);
    expect(await a.renew(d.lease)).toBeUndefined();
    expect((await b.decide({ tenantId, estimatedCostMicros: 0 })).allowed).toBe(true);
  });

  it("admits spend + estimate up to the budget and not one micro-unit more", async () => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({
      [tenantId]: { maxQps: 1000, maxConcurrency: 100, monthlyBudgetMicros: 1000n },
    });
    const [a] = await pair("budget", quotas, mode, 30_000, 0, coalesce);
    const now = Date.UTC(2026, 4, 31, 23, 59, 0);
    await redisA.set(a.keys.spend(tenantId, "2026-05"), "900");
    const over = await a.decide({ tenantId, estimatedCostMicros: 101, now });
    expect(over).toMatchObject({
      allowed: false,
      limit: "budget",
      value: 1000,
      used: 900,
      retryAfterSeconds: 60,
    });
    const exact = await a.decide({ tenantId, estimatedCostMicros: 100, now });
    expect(exact.allowed).toBe(true);
    // The next month starts from zero spend.
    const nextMonth = await a.decide({ tenantId, estimatedCostMicros: 1000, now: now + 120_000 });
    expect(nextMonth.allowed).toBe(true);

    const err = toAppError(over as Extract<Decision, { allowed: false }>);
    expect(err.status).toBe(402);
    expect(err.code).toBe("BUDGET_EXHAUSTED");
    expect(err.toBody("req_1").error.details).toEqual({ limit: "budget", value: 1000, used: 900 });
  });

  it("renders rate rejections as 429 with Retry-After and RateLimit headers", async () => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 3, maxConcurrency: 100 } });
    const [a] = await pair("render", quotas, mode, 30_000, 0, coalesce);
    const decisions: Decision[] = [];
    for (let i = 0; i < 5; i++) decisions.push(await a.decide({ tenantId, estimatedCostMicros: 0 }));
    const rejected = decisions.filter((d) => !d.allowed);
    expect(rejected.length).toBeGreaterThanOrEqual(2);
    const first = rejected[0];
    if (first === undefined || first.allowed) throw new Error("expected a rejection");
    expect(first).toMatchObject({ limit: "rate", value: 3 });
    const err = toAppError(first);
    expect(err.status).toBe(429);
    expect(err.code).toBe("RATE_LIMITED");
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(err.headers["RateLimit-Policy"]).toBe(
      '"qps";q=3;w=1, "concurrency";q=100;qu="concurrent-requests"',
    );
    expect(err.headers.RateLimit).toMatch(/^"qps";r=0;t=\d+, "concurrency";r=\d+$/);
  });
});

describe("one Redis round trip per decision", () => {
  it.each(["pipeline", "script"] as const)(
    "%s mode sends each decision as one request batch",
    async (mode) => {
      const tenantId = testTenant();
      const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 100_000, maxConcurrency: 100_000 } });
      const [a] = await pair("rtt", quotas, mode);
      const direct = a.adapter.directCalls;
      const trips = a.roundTrips;
      // roundTrips counts pipeline execs / script calls; directCalls counts library script calls that
      // escaped the batch and went to Redis on their own (each an extra round trip).
      const n = 200;
      const results = await Promise.all(
        Array.from({ length: n }, () => a.decide({ tenantId, estimatedCostMicros: 1 })),
      );
      expect(results.every((d) => d.allowed)).toBe(true);
      expect(a.roundTrips - trips).toBe(n);
      expect(a.adapter.directCalls - direct).toBe(0);
    },
  );
});

describe("coalesced writes", () => {
  /** Counts the socket writes ioredis makes on this connection (one per write or writev call). */
  function countWrites(redis: Redis): { count: () => number; restore: () => void } {
    const stream = (redis as unknown as { stream: { _write: unknown; _writev: unknown } }).stream;
    const original = { write: stream._write, writev: stream._writev };
    let n = 0;
    const wrap = (fn: unknown) =>
      function (this: unknown, ...args: unknown[]) {
        n++;
        return (fn as (...a: unknown[]) => unknown).apply(this, args);
      };
    stream._write = wrap(original.write);
    stream._writev = wrap(original.writev);
    return {
      count: () => n,
      restore: () => {
        stream._write = original.write;
        stream._writev = original.writev;
      },
    };
  }

  it.each(["pipeline", "script"] as const)(
    "%s mode: decisions issued in one event-loop turn leave in one socket write",
    async (mode) => {
      const tenantId = testTenant();
      const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 100_000, maxConcurrency: 100 } });
      const [coalesced] = await pair("coalesce", quotas, mode, 30_000, 0, true);
      const writes = countWrites(redisA);
      try {
        const n = 20;
        const decisions = await Promise.all(
          Array.from({ length: n }, () => coalesced.decide({ tenantId, estimatedCostMicros: 1 })),
        );
        // All admitted, so no decision sends anything after its reply (no undo, no refund).
        expect(decisions.every((d) => d.allowed)).toBe(true);
        expect(writes.count()).toBe(1);
        expect(await coalesced.inFlight(tenantId)).toBe(n);
      } finally {
        writes.restore();
      }
    },
  );

  it("twenty decisions in one write are still twenty decisions: exactly the limit admitted", async () => {
    const tenantId = testTenant();
    const limit = 7;
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 100_000, maxConcurrency: limit } });
    // Script mode: a rejection sends nothing after its reply, so every write is counted here.
    const [coalesced] = await pair("coalesce-limit", quotas, "script", 30_000, 0, true);
    const writes = countWrites(redisA);
    try {
      const n = 20;
      const decisions = await Promise.all(
        Array.from({ length: n }, () => coalesced.decide({ tenantId, estimatedCostMicros: 1 })),
      );
      expect(writes.count()).toBe(1);
      expect(decisions.filter((d) => d.allowed)).toHaveLength(limit);
      expect(decisions.filter((d) => !d.allowed && d.limit === "concurrency")).toHaveLength(n - limit);
      expect(await coalesced.inFlight(tenantId)).toBe(limit);
    } finally {
      writes.restore();
    }
  });

  it("without coalescing, each decision is its own write", async () => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 100_000, maxConcurrency: 100 } });
    const [plain] = await pair("plain", quotas, "pipeline");
    const writes = countWrites(redisA);
    try {
      const n = 20;
      const pending = Array.from({ length: n }, () => plain.decide({ tenantId, estimatedCostMicros: 1 }));
      await new Promise((r) => setImmediate(r));
      // Each decision uncorks on its own; the socket may still merge writes queued behind a busy
      // one, so more than one write is what is certain.
      expect(writes.count()).toBeGreaterThan(1);
      await Promise.all(pending);
    } finally {
      writes.restore();
    }
  });
});
