import { randomBytes } from "node:crypto";
import { defaultInfra } from "@maas/config";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { quotasCodec } from "./adapters/quota-source.js";
import { publishInvalidation, TwoLevelCache } from "./two-level-cache.js";

const url = process.env.REDIS_URL ?? `redis://${defaultInfra.redis.host}:${defaultInfra.redis.port}`;
const clients: Redis[] = [];
function client(target = url): Redis {
  const r = new Redis(target, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  clients.push(r);
  return r;
}
afterAll(async () => {
  for (const c of clients) c.disconnect();
});

async function pair(ttlMs = 5000) {
  const prefix = `test:cache:${randomBytes(4).toString("hex")}:`;
  const channel = `${prefix}chan`;
  const make = async () => {
    const redis = client();
    const subscriber = client();
    await Promise.all([redis.connect(), subscriber.connect()]);
    const registry = new Registry();
    const cache = new TwoLevelCache<{ n: number }>({
      name: "t",
      redis,
      subscriber,
      ttlMs,
      keyPrefix: prefix,
      channel,
      registry,
    });
    await cache.start();
    return { cache, registry, redis };
  };
  return { a: await make(), b: await make() };
}

async function counter(registry: Registry, level: string, result: string): Promise<number> {
  const metric = await registry.getSingleMetric("cache_requests_total")?.get();
  return metric?.values.find((v) => v.labels.level === level && v.labels.result === result)?.value ?? 0;
}

describe("TwoLevelCache (real Redis)", () => {
  it("serves another instance's load from Redis, then from its own LRU, counting each level", async () => {
    const { a, b } = await pair();
    let loads = 0;
    await a.cache.getOrLoad("k", async () => ({ value: { n: ++loads } }));
    expect(await b.cache.getOrLoad("k", async () => ({ value: { n: ++loads } }))).toEqual({ n: 1 });
    expect(await b.cache.get("k")).toEqual({ n: 1 });
    expect(loads).toBe(1);
    expect(await counter(b.registry, "l2", "hit")).toBe(1);
    expect(await counter(b.registry, "l1", "hit")).toBe(1);
    expect(await counter(b.registry, "l1", "miss")).toBe(1);
  });

  it("a delete on one instance drops the key from every instance's LRU (pub/sub)", async () => {
    const { a, b } = await pair();
    await a.cache.set("k", { n: 1 });
    expect(await b.cache.get("k")).toEqual({ n: 1 }); // now in b's L1
    await a.cache.delete("k");
    await expect.poll(() => b.cache.get("k"), { timeout: 2000 }).toBeUndefined();
  });

  it("publishInvalidation reaches caches without holding one", async () => {
    const { a, b } = await pair();
    await a.cache.set("k", { n: 1 });
    await b.cache.get("k");
    const prefix = (a.cache as unknown as { prefix: string }).prefix;
    const channel = (a.cache as unknown as { channel: string }).channel;
    await publishInvalidation(a.redis, "t", "k", { keyPrefix: prefix, channel });
    await expect.poll(() => a.cache.get("k"), { timeout: 2000 }).toBeUndefined();
    await expect.poll(() => b.cache.get("k"), { timeout: 2000 }).toBeUndefined();
  });

  it("an L1 copy taken from Redis never outlives the TTL the entry was set with", async () => {
    const { a, b } = await pair();
    await a.cache.set("k", { n: 1 }, 400);
    await new Promise((r) => setTimeout(r, 250));
    expect(await b.cache.get("k")).toEqual({ n: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(await b.cache.get("k")).toBeUndefined();
  });

  it("keeps answering from the loader when Redis is unreachable, counting the failures", async () => {
    const registry = new Registry();
    const dead = client("redis://127.0.0.1:1");
    const cache = new TwoLevelCache<{ n: number }>({ name: "dead", redis: dead, ttlMs: 1000, registry });
    expect(await cache.getOrLoad("k", async () => ({ value: { n: 7 } }))).toEqual({ n: 7 });
    expect(await cache.get("k")).toEqual({ n: 7 });
    const errors = await registry.getSingleMetric("cache_redis_errors_total")?.get();
    expect(errors?.values.reduce((s, v) => s + v.value, 0)).toBeGreaterThanOrEqual(2);
  });

  it("round-trips bigints through the quotas codec", () => {
    const q = {
      maxModels: 1,
      maxStorageBytes: 2n ** 40n,
      maxQps: 3,
      maxConcurrency: 4,
      monthlyBudgetMicros: 5n,
    };
    expect(quotasCodec.decode(quotasCodec.encode(q))).toEqual(q);
  });
});
