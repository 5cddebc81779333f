import { LRUCache } from "lru-cache";
import type { ApiKeyRecord } from "../api-key/lookup-api-key.js";
import type { VerifyResult } from "../principal.js";

/**
 * What the verifier caches, keyed without any secret:
 * - `apikey:<prefix>` → the key's stored record (null: no such prefix). The presented secret is
 *   still compared against the record's hash on every hit, so a cached key never admits a wrong
 *   secret, and revoking a key can evict exactly one entry (by prefix).
 * - `jwt:<sha256 of the token>` → the verification result.
 * Values are plain JSON so a Redis level can hold them too.
 */
export type CachedCredential =
  | { kind: "api_key"; record: ApiKeyRecord | null }
  | { kind: "jwt"; result: VerifyResult };

/**
 * The cache in front of verification. The in-process LRU below is one implementation; the
 * gateway's two-level cache (LRU + Redis with pub/sub invalidation) is another behind the same
 * interface. Whatever the implementation, an entry must not outlive the `ttlMs` it was set with:
 * that TTL is the bound on how long a revoked key or suspended tenant keeps working.
 */
export interface PrincipalCache {
  get(key: string): Promise<CachedCredential | undefined>;
  set(key: string, value: CachedCredential, ttlMs: number): Promise<void>;
  /** Evicts one entry (key revoked, member removed …). */
  delete(key: string): Promise<void>;
}

/** The cache key of an API key's record. */
export function apiKeyCacheKey(prefix: string): string {
  return `apikey:${prefix}`;
}

export interface MemoryPrincipalCacheOptions {
  /** Most entries kept (default 10,000); the least recently used go first. */
  max?: number;
}

/**
 * The in-process principal cache: an LRU with a TTL per entry.
 *
 * @example
 * const cache = createMemoryPrincipalCache({ max: 50_000 });
 * const verifier = createVerifier({ db, cache });
 */
export function createMemoryPrincipalCache(options: MemoryPrincipalCacheOptions = {}): PrincipalCache {
  // ttl 1 only enables per-entry TTLs; every set passes its own.
  const lru = new LRUCache<string, CachedCredential>({ max: options.max ?? 10_000, ttl: 1 });
  return {
    async get(key) {
      return lru.get(key);
    },
    async set(key, value, ttlMs) {
      if (ttlMs > 0) lru.set(key, value, { ttl: ttlMs });
    },
    async delete(key) {
      lru.delete(key);
    },
  };
}
