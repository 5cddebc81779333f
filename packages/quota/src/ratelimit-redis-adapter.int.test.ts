import { createHash } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { RatelimitRedisAdapter } from "./ratelimit-redis-adapter.js";
import { dropPrefix, quotaRedis, uniquePrefix } from "./testing/redis.js";

let redis: Redis;
const prefixes: string[] = [];
beforeAll(async () => {
  redis = quotaRedis();
  await redis.connect();
});
afterEach(async () => {
  vi.useRealTimers();
  for (const p of prefixes.splice(0)) await dropPrefix(redis, p);
});
afterAll(() => redis.disconnect());

function limiter(
  adapter: RatelimitRedisAdapter,
  tokens: number,
  ephemeralCache: Map<string, number> | false,
) {
  const prefix = uniquePrefix("adapter");
  prefixes.push(prefix);
  return new Ratelimit({
    redis: adapter.asUpstash(),
    limiter: Ratelimit.slidingWindow(tokens, "1 s"),
    prefix,
    ephemeralCache,
    timeout: 0,
  });
}

describe("@upstash/ratelimit over ioredis", () => {
  it("the library's own script fails on open-source Redis (Upstash shebang); the adapter strips it", async () => {
    const raw = new RatelimitRedisAdapter(redis, { stripShebang: false });
    await expect(limiter(raw, 5, false).limit("t")).rejects.toThrow(/shebang|flag/i);
    const [hash, original] = [...raw.originals][0] ?? [];
    expect(original?.startsWith("#!lua flags=allow-key-locking\n")).toBe(true);
    // The library's hash is of the text it sends, so the adapter's lookups by hash hit.
    expect(hash).toBe(
      createHash("sha1")
        .update(original ?? "")
        .digest("hex"),
    );

    const adapter = new RatelimitRedisAdapter(redis);
    const rl = limiter(adapter, 5, false);
    const results = [];
    for (let i = 0; i < 7; i++) results.push((await rl.limit("t")).success);
    expect(results).toEqual([true, true, true, true, true, false, false]);
    // First call: local NOSCRIPT then EVAL (one direct call); after that EVALSHA by the mapped name.
    expect(adapter.directCalls).toBe(7);
  });

  it("the ephemeral cache under-admits a sliding window; the decider runs with it off", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const base = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const adapter = new RatelimitRedisAdapter(redis);
    const cached = limiter(adapter, 10, new Map());
    const plain = limiter(adapter, 10, false);
    const admitted = async (rl: Ratelimit, n: number) => {
      let ok = 0;
      for (let i = 0; i < n; i++) if ((await rl.limit("t")).success) ok++;
      return ok;
    };
    const run = async (rl: Ratelimit) => {
      vi.setSystemTime(base + 100);
      const first = await admitted(rl, 10); // fills window W
      vi.setSystemTime(base + 1500);
      const mid = await admitted(rl, 10); // W+1 at 50%: previous weighs 5, so 5 more
      vi.setSystemTime(base + 1750);
      const late = await admitted(rl, 10); // W+1 at 75%: previous weighs 2 (of 10), so 3 more
      return [first, mid, late];
    };
    expect(await run(plain)).toEqual([10, 5, 3]);
    // The cache blocked "t" until the end of W+1 after the first rejection at 50%.
    expect(await run(cached)).toEqual([10, 5, 0]);
  });
});
