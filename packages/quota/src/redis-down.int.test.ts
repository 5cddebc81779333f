import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createQuotaDecider, type RedisDownPolicy } from "./quota-decider.js";
import { StaticQuotaSource } from "./quota-source.js";
import { RatelimitRedisAdapter } from "./ratelimit-redis-adapter.js";
import { dropPrefix, quotaRedis, testTenant, uniquePrefix } from "./testing/redis.js";
import type { QuotaLogger } from "./types.js";

// A port nothing listens on: connection refused, as when the Redis pod is gone.
const DEAD_REDIS = "redis://127.0.0.1:1";

function recordingLogger() {
  const lines: { level: string; msg: string | undefined }[] = [];
  const logger: QuotaLogger = {
    info: (_o, msg) => lines.push({ level: "info", msg }),
    warn: (_o, msg) => lines.push({ level: "warn", msg }),
    error: (_o, msg) => lines.push({ level: "error", msg }),
  };
  return { logger, lines };
}

async function counterValue(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = await registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}

describe("Redis unreachable (closed port)", () => {
  let dead: Redis;
  beforeAll(() => {
    dead = quotaRedis(DEAD_REDIS, { retryStrategy: () => 1000 });
    dead.on("error", () => undefined);
    void dead.connect().catch(() => undefined);
  });
  afterAll(() => dead.disconnect());

  it("degrades to limit / expected replicas, logs and counts the transition once", async () => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 30, maxConcurrency: 6 } });
    const registry = new Registry();
    const { logger, lines } = recordingLogger();
    const quota = createQuotaDecider({
      redis: dead,
      quotas,
      keyPrefix: uniquePrefix("down"),
      expectedReplicas: 3,
      registry,
      logger,
    });
    const now = Date.now();
    // Concurrency share: 6 / 3 = 2 slots on this instance.
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await quota.decide({ tenantId, estimatedCostMicros: 0, now }));
    expect(held.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(held[2]).toMatchObject({ allowed: false, limit: "concurrency", value: 2, degraded: true });
    for (const d of held) if (d.allowed) await quota.release(d.lease);
    // Rate share: 30 / 3 = 10 per second (the bucket started full, 3 tokens spent above).
    let admitted = 0;
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) {
      const d = await quota.decide({ tenantId, estimatedCostMicros: 0, now });
      if (d.allowed) {
        admitted++;
        await quota.release(d.lease);
      } else {
        expect(d).toMatchObject({ limit: "rate", value: 10, degraded: true });
      }
    }
    // A dead Redis adds no latency: refused connections fail at once, then the breaker skips Redis.
    expect(Date.now() - t0).toBeLessThan(500);
    expect(admitted).toBe(8);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(await counterValue(registry, "quota_redis_state_transitions_total", { to: "degraded" })).toBe(1);
    expect(await counterValue(registry, "quota_decisions_total", { path: "local", outcome: "allowed" })).toBe(
      10,
    );
  });

  it.each([
    ["fail-open", true],
    ["fail-closed", false],
  ] as const)("policy %s", async (policy: RedisDownPolicy, allowed) => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 1, maxConcurrency: 1 } });
    const quota = createQuotaDecider({ redis: dead, quotas, redisDownPolicy: policy });
    const decisions = await Promise.all(
      Array.from({ length: 5 }, () => quota.decide({ tenantId, estimatedCostMicros: 0 })),
    );
    expect(decisions.every((d) => d.allowed === allowed && d.degraded)).toBe(true);
    if (!allowed) expect(decisions[0]).toMatchObject({ limit: "unavailable", retryAfterSeconds: 1 });
  });
});

describe("Redis paused (CLIENT PAUSE), then back", () => {
  let redis: Redis;
  let admin: Redis;
  const prefix = uniquePrefix("pause");
  beforeAll(async () => {
    redis = quotaRedis();
    admin = quotaRedis();
    await Promise.all([redis.connect(), admin.connect()]);
  });
  afterEach(() => dropPrefix(admin, prefix));
  afterAll(() => {
    redis.disconnect();
    admin.disconnect();
  });

  it("bounds the added latency, degrades, and recovers on its own; the library alone fails open", async () => {
    const tenantId = testTenant();
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 1000, maxConcurrency: 100 } });
    const { logger, lines } = recordingLogger();
    const quota = createQuotaDecider({
      redis,
      quotas,
      keyPrefix: prefix,
      redisTimeoutMs: 50,
      breakerHalfOpenMs: 200,
      expectedReplicas: 2,
      logger,
    });
    await quota.warmUp();
    // The library on its own, with its timeout option, in the same pause: it answers success.
    const adapter = new RatelimitRedisAdapter(redis);
    const bare = new Ratelimit({
      redis: adapter.asUpstash(),
      limiter: Ratelimit.slidingWindow(1, "1 s"),
      prefix: `${prefix}bare`,
      ephemeralCache: false,
      timeout: 100,
    });
    await bare.limit("x"); // registers the script, takes the only token

    expect((await quota.decide({ tenantId, estimatedCostMicros: 0 })).degraded).toBe(false);
    // WRITE pauses scripts and writes (what decisions do) but keeps the shared server readable.
    await admin.call("CLIENT", "PAUSE", "1200", "WRITE");
    const pausedAt = Date.now();
    const bareDuringPause = await bare.limit("x");
    expect(bareDuringPause).toMatchObject({ success: true, reason: "timeout" });

    const latencies: number[] = [];
    const during = [];
    while (Date.now() - pausedAt < 900) {
      const t = performance.now();
      const d = await quota.decide({ tenantId, estimatedCostMicros: 0 });
      latencies.push(performance.now() - t);
      during.push(d);
      if (d.allowed) await quota.release(d.lease);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(during.every((d) => d.degraded)).toBe(true);
    expect(during.some((d) => d.allowed)).toBe(true);
    // Each call waits at most the timeout (+ scheduling slack); once the breaker opens, nothing.
    expect(Math.max(...latencies)).toBeLessThan(150);
    const slow = latencies.filter((l) => l >= 40).length;
    expect(slow).toBeLessThan(latencies.length / 2);

    // After the pause: back on Redis without any intervention.
    const deadline = Date.now() + 5000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const d = await quota.decide({ tenantId, estimatedCostMicros: 0 });
      if (d.allowed) await quota.release(d.lease);
      recovered = !d.degraded;
    }
    expect(recovered).toBe(true);
    expect(lines.map((l) => l.level)).toEqual(["warn", "info"]);
  }, 15_000);
});
