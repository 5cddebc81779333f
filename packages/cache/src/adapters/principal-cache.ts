import type { CachedCredential, PrincipalCache } from "@maas/auth";
import type { TwoLevelCache } from "../two-level-cache.js";

/** The cache name principals live under (invalidate with `publishInvalidation(redis, PRINCIPAL_CACHE, apiKeyCacheKey(prefix))`). */
export const PRINCIPAL_CACHE = "principal";

/**
 * @maas/auth's `PrincipalCache` over a two-level cache: API key → tenant/role shared by every
 * replica, revocation (a `delete`, or `publishInvalidation` from the control API) dropping it
 * everywhere. The verifier passes each entry's TTL (≤ 5 s): the revocation bound when a message is lost.
 *
 * @example
 * const cache = new TwoLevelCache<CachedCredential>({ name: PRINCIPAL_CACHE, redis, subscriber, ttlMs: 5000 });
 * const verifier = createVerifier({ db, cache: twoLevelPrincipalCache(cache), ttlMs: 5000 });
 */
export function twoLevelPrincipalCache(cache: TwoLevelCache<CachedCredential>): PrincipalCache {
  return {
    get: (key) => cache.get(key),
    set: (key, value, ttlMs) => cache.set(key, value, ttlMs),
    delete: (key) => cache.delete(key),
  };
}
