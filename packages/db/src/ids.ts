import { randomFillSync } from "node:crypto";
import { monotonicFactory, type PRNG } from "ulid";
import { z } from "zod";

/** Every id prefix in use. One place, so a prefix never means two things. */
export const ID_PREFIXES = {
  tenant: "tnt",
  apiKey: "key",
  member: "mem",
  model: "mdl",
  modelVersion: "mver",
  upload: "upl",
  deployment: "dep",
  event: "evt",
  invoice: "inv",
  webhook: "whk",
  request: "req",
} as const;

export type IdPrefix = (typeof ID_PREFIXES)[keyof typeof ID_PREFIXES];

/**
 * ulid's default generator asks the OS for one random byte per character (16 `getRandomValues` calls
 * per id, the biggest single cost of a usage event on the gateway's path). This one draws the same
 * CSPRNG bytes 4 KiB at a time.
 */
function bufferedPrng(): PRNG {
  const pool = new Uint32Array(1024);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return (pool[next++] as number) / 0x1_0000_0000;
  };
}

// Monotonic: ids made in the same millisecond still sort in creation order (and a clock stepping
// back does not break the order: the factory keeps counting from the last id).
const ulid = monotonicFactory(bufferedPrng());

/**
 * A new time-sortable id: the prefix, `_`, then a lower-case ULID (26 Crockford base32 chars,
 * 48-bit millisecond time + 80 random bits). Lower case because ids appear in URLs and in
 * Kubernetes names, which must be lower case.
 *
 * @example
 * const id = newId("tnt"); // "tnt_01jd8x3k5q0v8m2c7r9s4t6w1y"
 * const at = newId("evt", Date.parse("2026-01-01T00:00:00Z")); // time part from `now`
 */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${ulid(now).toLowerCase()}`;
}

/**
 * A zod schema accepting ids of one prefix (as made by `newId`, or any lower-case base32 tail).
 *
 * @example
 * const tenantId = idSchema("tnt").parse(input);
 */
export function idSchema(prefix: IdPrefix) {
  return z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{1,64}$`), `expected an id like ${prefix}_…`);
}

export const tenantIdSchema = idSchema("tnt");
