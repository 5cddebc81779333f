import { MemoryPublisher } from "@maas/events";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { StaticQuotaSource } from "./quota-source.js";
import { SpendLedger } from "./spend-ledger.js";
import { dropPrefix, quotaRedis, testTenant, uniquePrefix } from "./testing/redis.js";

let redisA: Redis;
let redisB: Redis;
const prefix = uniquePrefix("spend");
beforeAll(async () => {
  redisA = quotaRedis();
  redisB = quotaRedis();
  await Promise.all([redisA.connect(), redisB.connect()]);
});
afterEach(() => dropPrefix(redisA, prefix));
afterAll(() => {
  redisA.disconnect();
  redisB.disconnect();
});

const MAY = Date.UTC(2026, 4, 10);
const JUNE = Date.UTC(2026, 5, 2);

describe("SpendLedger", () => {
  it("emits quota.threshold.crossed at 50/80/100 % once per period, across instances", async () => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({ [tenantId]: { monthlyBudgetMicros: 1000n } });
    const publisher = new MemoryPublisher();
    const a = new SpendLedger({ redis: redisA, quotas, publisher, keyPrefix: prefix });
    const b = new SpendLedger({ redis: redisB, quotas, publisher, keyPrefix: prefix });

    expect((await a.recordSpend({ tenantId, amountMicros: 499, at: MAY })).crossed).toEqual([]);
    expect(await a.recordSpend({ tenantId, amountMicros: 1, at: MAY })).toEqual({
      period: "2026-05",
      totalMicros: 500,
      crossed: [50],
    });
    expect((await b.recordSpend({ tenantId, amountMicros: 100, at: MAY })).crossed).toEqual([]);
    expect((await b.recordSpend({ tenantId, amountMicros: 450, at: MAY })).crossed).toEqual([80, 100]);
    // Racing instances past every threshold again: nothing more this period.
    const again = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).recordSpend({ tenantId, amountMicros: 10, at: MAY }),
      ),
    );
    expect(again.flatMap((r) => r.crossed)).toEqual([]);
    expect(await a.monthToDate(tenantId, MAY)).toBe(1250);

    const data = publisher.published.map((e) => e.data);
    expect(data).toEqual([
      {
        tenantId,
        quota: "budget",
        thresholdPercent: 50,
        used: 500,
        limit: 1000,
        unit: "micros",
        period: "2026-05",
      },
      {
        tenantId,
        quota: "budget",
        thresholdPercent: 80,
        used: 1050,
        limit: 1000,
        unit: "micros",
        period: "2026-05",
      },
      {
        tenantId,
        quota: "budget",
        thresholdPercent: 100,
        used: 1050,
        limit: 1000,
        unit: "micros",
        period: "2026-05",
      },
    ]);
    expect(publisher.published.every((e) => e.type === "io.maas.quota.threshold.crossed.v1")).toBe(true);

    // A new period starts from zero and may cross again.
    expect((await a.recordSpend({ tenantId, amountMicros: 600, at: JUNE })).crossed).toEqual([50]);
  });

  it("re-arms a threshold whose event could not be published", async () => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({ [tenantId]: { monthlyBudgetMicros: 100n } });
    const publisher = new MemoryPublisher();
    const ledger = new SpendLedger({ redis: redisA, quotas, publisher, keyPrefix: prefix });
    publisher.failWith = new Error("broker down");
    const failed = await ledger.recordSpend({ tenantId, amountMicros: 60, at: MAY });
    expect(failed.crossed).toEqual([50]);
    expect(publisher.published).toHaveLength(0);
    publisher.failWith = undefined;
    const retried = await ledger.recordSpend({ tenantId, amountMicros: 1, at: MAY });
    expect(retried).toMatchObject({ totalMicros: 61, crossed: [50] });
    expect(publisher.published).toHaveLength(1);
  });

  it("reconciles the Redis counter from the source of truth", async () => {
    const tenantId = testTenant();
    const ledger = new SpendLedger({
      redis: redisA,
      quotas: new StaticQuotaSource(),
      publisher: new MemoryPublisher(),
      keyPrefix: prefix,
    });
    await ledger.recordSpend({ tenantId, amountMicros: 5, at: MAY });
    const truth = await ledger.reconcile(tenantId, { monthToDateMicros: async () => 4321n }, MAY);
    expect(truth).toBe(4321);
    expect(await ledger.monthToDate(tenantId, MAY)).toBe(4321);
  });
});
