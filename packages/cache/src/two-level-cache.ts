import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { Registry } from "prom-client";
import { type Codec, jsonCodec } from "./codec.js";
import { type CacheMetrics, cacheMetrics } from "./metrics.js";

/** The pub/sub channel every cache instance listens on; messages are `<cache name>\n<key>`. */
export const INVALIDATION_CHANNEL = "maas:cache:invalidate";

export interface CacheLogger {
  warn(obj: object, msg?: string): void;
}

export interface TwoLevelCacheOptions<V> {
  /** Names the cache in metrics, Redis keys and invalidation messages (e.g. `principal`, `route`). */
  name: string;
  /** The shared level; absent: in-process only (embedded mode). */
  redis?: Redis | undefined;
  /**
   * A connection dedicated to SUBSCRIBE (a subscribed ioredis client can run nothing else); absent:
   * no invalidation is received and entries live out their TTL.
   */
  subscriber?: Redis | undefined;
  /** Default TTL of an entry in both levels. */
  ttlMs: number;
  /** Most entries in the in-process level (default 10,000). */
  max?: number;
  /** Redis key prefix (default `maas:cache:<name>:`); tests use a unique one. */
  keyPrefix?: string;
  channel?: string;
  codec?: Codec<V>;
  registry?: Registry;
  logger?: CacheLogger;
}

/** What a loader returns: the value (undefined = nothing to cache) and optionally its own TTL. */
export interface Loaded<V> {
  value: V | undefined;
  ttlMs?: number;
}

/**
 * Cache-aside over two levels: an in-process LRU (no I/O on a hit) and Redis (shared by every
 * replica, so a miss here is rarely a database query). A write anywhere (`delete`) drops the key
 * from Redis and publishes it on one channel: every instance drops it from its LRU at once, and the
 * TTL bounds staleness when a message is lost. An entry never outlives the TTL it was set with:
 * Redis stores the absolute expiry beside the value, and the LRU takes the remaining time.
 * Redis failures never fail a lookup: they count and fall through to the loader.
 *
 * @example
 * const routes = new TwoLevelCache<Route>({ name: "route", redis, subscriber, ttlMs: 5000, registry });
 * await routes.start();
 * const route = await routes.getOrLoad(`${tenantId}/${model}`, async () => ({ value: await findRoute() }));
 * await routes.delete(`${tenantId}/${model}`); // every replica drops it
 */
export class TwoLevelCache<V> {
  readonly name: string;
  readonly metrics: CacheMetrics;
  private readonly lru: LRUCache<string, { value: V }>;
  private readonly redis: Redis | undefined;
  private readonly subscriber: Redis | undefined;
  private readonly ttlMs: number;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly codec: Codec<V>;
  private readonly logger: CacheLogger | undefined;
  private readonly pending = new Map<string, Promise<V | undefined>>();
  private readonly onMessage = (channel: string, message: string) => this.received(channel, message);

  constructor(options: TwoLevelCacheOptions<V>) {
    this.name = options.name;
    this.redis = options.redis;
    this.subscriber = options.subscriber;
    this.ttlMs = options.ttlMs;
    this.prefix = options.keyPrefix ?? `maas:cache:${options.name}:`;
    this.channel = options.channel ?? INVALIDATION_CHANNEL;
    this.codec = options.codec ?? jsonCodec<V>();
    this.logger = options.logger;
    this.metrics = cacheMetrics(options.registry ?? new Registry());
    // ttl 1 only turns per-entry TTLs on; every set passes its own.
    this.lru = new LRUCache({ max: options.max ?? 10_000, ttl: 1 });
  }

  /** Subscribes to invalidations. Call once before serving. */
  async start(): Promise<void> {
    if (this.subscriber === undefined) return;
    this.subscriber.on("message", this.onMessage);
    await this.subscriber.subscribe(this.channel);
  }

  async close(): Promise<void> {
    this.subscriber?.off("message", this.onMessage);
  }

  /** The value in L1, else L2 (copied into L1), else undefined. */
  async get(key: string): Promise<V | undefined> {
    const local = this.lru.get(key);
    if (local !== undefined) {
      this.metrics.requests.inc({ cache: this.name, level: "l1", result: "hit" });
      return local.value;
    }
    this.metrics.requests.inc({ cache: this.name, level: "l1", result: "miss" });
    if (this.redis === undefined) return undefined;
    let text: string | null;
    try {
      text = await this.redis.get(this.prefix + key);
    } catch (err) {
      this.redisFailed("get", err);
      return undefined;
    }
    const entry = text === null ? undefined : this.parse(text);
    const remaining = entry === undefined ? 0 : entry.e - Date.now();
    if (entry === undefined || remaining <= 0) {
      this.metrics.requests.inc({ cache: this.name, level: "l2", result: "miss" });
      return undefined;
    }
    this.metrics.requests.inc({ cache: this.name, level: "l2", result: "hit" });
    this.lru.set(key, { value: entry.v }, { ttl: remaining });
    return entry.v;
  }

  /** get, and on a miss one loader per key at a time (a burst of misses = one load), then set. */
  async getOrLoad(key: string, load: () => Promise<Loaded<V>>): Promise<V | undefined> {
    const hit = await this.get(key);
    if (hit !== undefined) return hit;
    let loading = this.pending.get(key);
    if (loading === undefined) {
      loading = load().then(async ({ value, ttlMs }) => {
        if (value !== undefined) await this.set(key, value, ttlMs);
        return value;
      });
      this.pending.set(key, loading);
      const done = () => this.pending.delete(key);
      loading.then(done, done);
    }
    return loading;
  }

  /** Stores in both levels for `ttlMs` (default: the cache's TTL). Redis failure: L1 only. */
  async set(key: string, value: V, ttlMs = this.ttlMs): Promise<void> {
    if (ttlMs <= 0) return;
    this.lru.set(key, { value }, { ttl: ttlMs });
    if (this.redis === undefined) return;
    // The absolute expiry travels with the value: an L1 copy taken later gets only what is left.
    const envelope = `${Date.now() + ttlMs}\n${this.codec.encode(value)}`;
    try {
      await this.redis.set(this.prefix + key, envelope, "PX", ttlMs);
    } catch (err) {
      this.redisFailed("set", err);
    }
  }

  /**
   * Drops the key everywhere: this LRU, Redis, and (through the channel) every other instance's LRU.
   * Call after the write that made the entry stale.
   */
  async delete(key: string): Promise<void> {
    this.lru.delete(key);
    this.metrics.invalidations.inc({ cache: this.name, origin: "local" });
    if (this.redis === undefined) return;
    try {
      await this.redis
        .multi()
        .del(this.prefix + key)
        .publish(this.channel, `${this.name}\n${key}`)
        .exec();
    } catch (err) {
      this.redisFailed("delete", err);
    }
  }

  /** Drops the key from this instance only (what a received invalidation does). */
  evictLocal(key: string): void {
    this.lru.delete(key);
  }

  /**
   * Loads the given keys before serving (e.g. active tenants' routes and quotas), a few at a time,
   * so the first requests after a start hit L1. Failures are logged and skipped.
   */
  async warm(
    keys: readonly string[],
    load: (key: string) => Promise<Loaded<V>>,
    concurrency = 8,
  ): Promise<number> {
    let next = 0;
    let loaded = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        try {
          if ((await this.getOrLoad(key, () => load(key))) !== undefined) loaded++;
        } catch (err) {
          this.logger?.warn({ err, cache: this.name, key }, "cache warm-up: load failed");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
    return loaded;
  }

  get size(): number {
    return this.lru.size;
  }

  private received(channel: string, message: string): void {
    if (channel !== this.channel) return;
    const newline = message.indexOf("\n");
    if (newline < 0 || message.slice(0, newline) !== this.name) return;
    this.lru.delete(message.slice(newline + 1));
    this.metrics.invalidations.inc({ cache: this.name, origin: "remote" });
  }

  private parse(text: string): { e: number; v: V } | undefined {
    const newline = text.indexOf("\n");
    const e = Number(text.slice(0, newline));
    if (newline < 0 || !Number.isFinite(e)) return undefined;
    try {
      return { e, v: this.codec.decode(text.slice(newline + 1)) };
    } catch {
      return undefined;
    }
  }

  private redisFailed(op: string, err: unknown): void {
    this.metrics.redisErrors.inc({ cache: this.name, op });
    this.logger?.warn({ err, cache: this.name, op }, "cache: redis call failed, falling back");
  }
}

/**
 * Publishes an invalidation without holding a cache (e.g. the control API after revoking a key):
 * every gateway drops `key` from its `name` cache, and the Redis level loses it too.
 *
 * @example
 * await publishInvalidation(redis, "principal", apiKeyCacheKey(prefix));
 */
export async function publishInvalidation(
  redis: Redis,
  name: string,
  key: string,
  options: { keyPrefix?: string; channel?: string } = {},
): Promise<void> {
  const prefix = options.keyPrefix ?? `maas:cache:${name}:`;
  await redis
    .multi()
    .del(prefix + key)
    .publish(options.channel ?? INVALIDATION_CHANNEL, `${name}\n${key}`)
    .exec();
}
