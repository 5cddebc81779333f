import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { newId } from "@maas/db";

/** The fixed start of every key, so leaked keys are easy to find (secret scanners, grep). */
export const API_KEY_PREFIX = "maas";

const PREFIX_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case
const PREFIX_LENGTH = 12; // 60 random bits: a lookup handle, not a secret; uniqueness is enforced by the table
const SECRET_BYTES = 32; // 256 bits
const SECRET_LENGTH = 43; // base64url of 32 bytes, unpadded
const HASH_SCHEME = "sha256";

// The prefix has a fixed alphabet and length, so `_` and `-` inside the base64url secret cannot
// confuse the split.
const API_KEY_PATTERN = new RegExp(
  `^${API_KEY_PREFIX}_([${PREFIX_ALPHABET}]{${PREFIX_LENGTH}})_([A-Za-z0-9_-]{${SECRET_LENGTH}})$`,
);

export interface GeneratedApiKey {
  /** `key_…`, the row id. */
  id: string;
  /** The public lookup handle stored in `api_keys.prefix` (shown in listings). */
  prefix: string;
  /** The whole key, `maas_<prefix>_<secret>`: shown to the user once, never stored. */
  secret: string;
  /** What `api_keys.hash` stores: `sha256:<hex>` of the whole key. */
  hash: string;
}

export interface ParsedApiKey {
  prefix: string;
  /** The whole key as presented (what is hashed). */
  token: string;
}

/**
 * A new API key: a random lookup prefix and 256 random bits of secret.
 *
 * @example
 * const key = generateApiKey();
 * await trx.insertInto("api_keys").values({ id: key.id, tenant_id, prefix: key.prefix, hash: key.hash, role, name }).execute();
 * return { key: key.secret }; // shown once
 */
export function generateApiKey(): GeneratedApiKey {
  const prefix = randomPrefix();
  const secret = `${API_KEY_PREFIX}_${prefix}_${randomBytes(SECRET_BYTES).toString("base64url")}`;
  return { id: newId("key"), prefix, secret, hash: hashApiKey(secret) };
}

/**
 * Splits a presented key into its lookup prefix; undefined when it is not shaped like one of ours
 * (then no database lookup is spent on it).
 *
 * @example
 * parseApiKey("maas_0123456789ab_…")?.prefix; // "0123456789ab"
 */
export function parseApiKey(token: string): ParsedApiKey | undefined {
  const match = API_KEY_PATTERN.exec(token);
  return match?.[1] === undefined ? undefined : { prefix: match[1], token };
}

/**
 * The stored form of a key. A single SHA-256 is enough here, unlike for passwords: the secret is
 * 256 random bits, so there is no dictionary to try and brute force is 2^256 hashes away; a slow
 * KDF (bcrypt, scrypt) would only add milliseconds to every request. The scheme is part of the
 * stored value so it can change later without guessing.
 */
export function hashApiKey(token: string): string {
  return `${HASH_SCHEME}:${createHash("sha256").update(token).digest("hex")}`;
}

/**
 * Compares a presented key with a stored hash in constant time (no early exit on the first
 * differing byte that would let a caller learn the hash byte by byte).
 */
export function apiKeyMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKey(token));
  const stored = Buffer.from(storedHash);
  // Lengths are public (the scheme fixes them); timingSafeEqual needs them equal.
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

function randomPrefix(): string {
  // 256 is a multiple of 32, so `byte % 32` is unbiased.
  let out = "";
  for (const byte of randomBytes(PREFIX_LENGTH)) out += PREFIX_ALPHABET[byte % PREFIX_ALPHABET.length];
  return out;
}
