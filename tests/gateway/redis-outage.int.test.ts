// Issue 6 acceptance: Redis stopped mid-load → the documented degradation (per-instance limits =
// limit / EXPECTED_REPLICAS, packages/quota/README.md "Redis down"), no 5xx storm, automatic recovery.
// The Redis here is this test's own redis-server on a spare port, killed and restarted by the test
// (the shared one on 56379 is never touched).
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CountingUpstream,
  count5xx,
  fixedRate,
  freePort,
  freshGatewayDb,
  type GatewayProcess,
  type RedisServerProcess,
  redisServer,
  type StatusCounts,
  seedTenantWithModel,
  sleep,
  startCountingUpstream,
  startGateway,
  uniqueRedisPrefix,
  until,
} from "./harness.js";

const REPLICAS = 2;

let database: Awaited<ReturnType<typeof freshGatewayDb>>;
let upstream: CountingUpstream;
let redis: RedisServerProcess;
let gateway: GatewayProcess;

beforeAll(async () => {
  database = await freshGatewayDb();
  upstream = await startCountingUpstream();
  redis = redisServer(await freePort());
  await redis.start();
  gateway = await startGateway({
    DATABASE_URL: database.fresh.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: uniqueRedisPrefix("outage"),
    EXPECTED_REPLICAS: String(REPLICAS),
    QUOTA_REDIS_DOWN_POLICY: "degrade",
  });
});

afterAll(async () => {
  await gateway?.stop();
  await redis?.kill();
  await upstream?.close();
  await database?.close();
});

function merge(into: StatusCounts, from: StatusCounts) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

describe("Redis unavailable mid-load", () => {
  it("degrades to per-instance limits without 5xx, and recovers by itself when Redis returns", async () => {
    const maxQps = 40;
    const share = maxQps / REPLICAS;
    const t = await seedTenantWithModel(database.db, {
      url: upstream.url,
      quotas: { max_qps: maxQps, max_concurrency: 100, monthly_budget_micros: 1e15 },
    });
    const path = `/v2/models/${t.modelName}/infer`;
    const load = (seconds: number) =>
      fixedRate({ origins: [gateway.origin], path, key: t.key, rate: 2 * maxQps, seconds });
    const all: StatusCounts = {};

    // Healthy: Redis decides.
    merge(all, (await load(2)).counts);
    const redisDecisionsBefore = await gateway.metric("quota_decisions_total", { path: "redis" });
    expect(redisDecisionsBefore).toBeGreaterThan(0);

    // Redis dies while the load keeps coming.
    const during = load(4);
    await sleep(500);
    await redis.kill();
    const down = await during;
    merge(all, down.counts);
    expect(await gateway.metric("quota_redis_degraded")).toBe(1);
    expect(
      await gateway.metric("quota_redis_state_transitions_total", { to: "degraded" }),
    ).toBeGreaterThanOrEqual(1);
    const local = await gateway.metric("quota_decisions_total", { path: "local", outcome: "allowed" });
    expect(local).toBeGreaterThan(0);

    // Fully degraded: this instance admits its share (limit / replicas) per second, a token
    // bucket with one second's burst, and says which limit it applied.
    const degraded = await load(3);
    merge(all, degraded.counts);
    const admitted = degraded.counts[200] ?? 0;
    expect(admitted).toBeLessThanOrEqual(share * (degraded.seconds + 1) + 2);
    expect(admitted).toBeGreaterThanOrEqual(share * degraded.seconds * 0.6);
    expect(degraded.counts[429] ?? 0).toBeGreaterThan(0);

    // Redis returns (same port, empty: no scripts, no keys): decisions go back to it on their own.
    await redis.start();
    await until(
      async () => {
        merge(all, (await load(0.5)).counts);
        return (await gateway.metric("quota_redis_degraded")) === 0;
      },
      "the gateway to leave the degraded mode",
      20_000,
      0,
    );
    expect(
      await gateway.metric("quota_redis_state_transitions_total", { to: "redis" }),
    ).toBeGreaterThanOrEqual(1);
    const before = await gateway.metric("quota_decisions_total", { path: "redis" });
    const after = await load(2);
    merge(all, after.counts);
    expect(await gateway.metric("quota_decisions_total", { path: "redis" })).toBeGreaterThan(before);
    expect(after.counts[200] ?? 0).toBeGreaterThan(0);
    // What was admitted locally was added to Redis's counters after recovery.
    expect(await gateway.metric("quota_local_admissions_synced_total")).toBeGreaterThan(0);

    // No 5xx storm: not a single 5xx or transport error over the whole run.
    expect(count5xx(all), JSON.stringify(all)).toBe(0);
    expect(all[200] ?? 0).toBeGreaterThan(0);
  });

  it("the restarted Redis holds the rate state again (limits shared, not local)", async () => {
    const probe = new Redis(redis.url);
    try {
      const keys = await probe.keys("*rl:*");
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      probe.disconnect();
    }
  });
});
