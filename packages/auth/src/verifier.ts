import { createHash } from "node:crypto";
import type { Database } from "@maas/db";
import type { Kysely } from "kysely";
import { parseApiKey } from "./api-key/api-key.js";
import type { LastUsedTracker } from "./api-key/last-used.js";
import { lookupApiKey } from "./api-key/lookup-api-key.js";
import { evaluateApiKey } from "./api-key/verify-api-key.js";
import { apiKeyCacheKey, type CachedCredential, type PrincipalCache } from "./cache/principal-cache.js";
import type { JwtVerifier } from "./jwt/jwt-verifier.js";
import { resolveJwtIdentity } from "./jwt/verify-jwt.js";
import { unauthenticated, type VerifyResult } from "./principal.js";

/** The revocation bound: a revoked key or suspended tenant is refused at most this long after. */
export const DEFAULT_AUTH_CACHE_TTL_MS = 5_000;
export const DEFAULT_AUTH_NEGATIVE_TTL_MS = 1_000;
/** Longer credentials are refused unread (no hashing or parsing of megabyte headers). */
export const MAX_CREDENTIAL_LENGTH = 8_192;

export interface Verifier {
  /** An API key or a JWT → a principal, or why not. Throws only when a dependency is down. */
  verify(credential: string): Promise<VerifyResult>;
}

export interface VerifierOptions {
  db: Kysely<Database>;
  /** Absent: JWTs are refused (API keys only). */
  jwt?: JwtVerifier;
  /** Absent: every request goes to the database. */
  cache?: PrincipalCache;
  /**
   * How long a successful verification is reused (default 5 s). This is the revocation bound:
   * revoking a key or suspending a tenant takes effect within it, on every replica.
   */
  ttlMs?: number;
  /** How long a refusal (unknown key, revoked, not a member) is reused (default 1 s, ≤ ttlMs). */
  negativeTtlMs?: number;
  /** Updates `last_used_at`, debounced; absent: not tracked. */
  lastUsed?: LastUsedTracker;
  /** Clock, for the JWT expiry bound (tests). */
  now?: () => number;
}

/**
 * The one credential verifier the control API and the gateway share: API keys (`maas_…`) and JWTs,
 * with an optional cache in front and concurrent misses for one credential sharing one lookup.
 *
 * @example
 * const verifier = createVerifier({ db, jwt, cache: createMemoryPrincipalCache(), lastUsed: createLastUsedTracker({ db }) });
 * app.use("/v1/*", authenticate({ verifier }));
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const { db, jwt, cache, lastUsed } = options;
  const ttlMs = options.ttlMs ?? DEFAULT_AUTH_CACHE_TTL_MS;
  const negativeTtlMs = Math.min(options.negativeTtlMs ?? DEFAULT_AUTH_NEGATIVE_TTL_MS, ttlMs);
  const now = options.now ?? Date.now;
  const pending = new Map<string, Promise<CachedCredential>>();

  /** Cache-aside with one loader per key at a time (a burst of one key's requests = one query). */
  async function cached(key: string, load: () => Promise<{ value: CachedCredential; ttl: number }>) {
    const hit = await cache?.get(key);
    if (hit !== undefined) return hit;
    let loading = pending.get(key);
    if (loading === undefined) {
      loading = load().then(async ({ value, ttl }) => {
        await cache?.set(key, value, ttl);
        return value;
      });
      pending.set(key, loading);
      void loading.then(
        () => pending.delete(key),
        () => pending.delete(key),
      );
    }
    return loading;
  }

  async function verifyKey(token: string, prefix: string): Promise<VerifyResult> {
    const entry = await cached(apiKeyCacheKey(prefix), async () => {
      const record = (await lookupApiKey(db, prefix)) ?? null;
      const usable = record !== null && !record.revoked && record.tenantStatus === "active";
      return { value: { kind: "api_key", record }, ttl: usable ? ttlMs : negativeTtlMs };
    });
    const record = entry.kind === "api_key" ? (entry.record ?? undefined) : undefined;
    const result = evaluateApiKey(token, record);
    if (result.ok && result.principal.kind === "api_key") lastUsed?.touch(result.principal.keyId);
    return result;
  }

  async function verifyToken(token: string): Promise<VerifyResult> {
    if (jwt === undefined)
      return unauthenticated("jwt_not_configured", "JWT authentication is not configured");
    const key = `jwt:${createHash("sha256").update(token).digest("base64url")}`;
    const entry = await cached(key, async () => {
      const verified = await jwt.verify(token);
      if (!verified.ok) return { value: { kind: "jwt", result: verified }, ttl: negativeTtlMs };
      const result = await resolveJwtIdentity(db, verified.identity);
      // Never reuse a token's result past the token's own expiry.
      const expiresAtMs = verified.identity.expiresAtMs;
      const bound = expiresAtMs === undefined ? Number.POSITIVE_INFINITY : expiresAtMs - now();
      return { value: { kind: "jwt", result }, ttl: Math.min(result.ok ? ttlMs : negativeTtlMs, bound) };
    });
    return entry.kind === "jwt" ? entry.result : unauthenticated("invalid_token", "invalid token");
  }

  return {
    async verify(credential) {
      if (credential === "" || credential.length > MAX_CREDENTIAL_LENGTH) {
        return unauthenticated("malformed", "invalid credentials");
      }
      const key = parseApiKey(credential);
      if (key !== undefined) return verifyKey(credential, key.prefix);
      if (looksLikeJwt(credential)) return verifyToken(credential);
      return unauthenticated("malformed", "invalid credentials");
    },
  };
}

/** Compact JWS: three base64url segments (RFC 7515 §7.1). */
function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
