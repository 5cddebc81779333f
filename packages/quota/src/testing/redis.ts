import { randomBytes } from "node:crypto";
import { defaultInfra } from "@maas/config";
import { Redis, type RedisOptions } from "ioredis";

/** REDIS_URL, or the project's local Redis. */
export const redisUrl =
  process.env.REDIS_URL ?? `redis://${defaultInfra.redis.host}:${defaultInfra.redis.port}`;

/**
 * A client configured as the decider expects: no offline queue (a command while disconnected fails
 * at once instead of waiting for the reconnect) and a bounded reconnect backoff. No auto-pipelining:
 * ioredis 6.0.0 throws an uncaught TypeError from its auto-pipeline callback when a pipelined script
 * meets a disconnected client with the offline queue off (seen in redis-down.int.test.ts).
 */
export function quotaRedis(url = redisUrl, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 50, 500),
    lazyConnect: true,
    ...options,
  });
}

/** A key prefix no other test (or engineer) uses. */
export function uniquePrefix(name: string): string {
  return `test:quota:${name}:${randomBytes(4).toString("hex")}:`;
}

/** A valid tenant id (`tnt_` + lower-case base-36). */
export function testTenant(): string {
  return `tnt_${randomBytes(6).toString("hex")}`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS on a shared server). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}
