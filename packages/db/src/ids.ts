import { monotonicFactory } from "ulid";
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

// Monotonic: ids made in the same millisecond still sort in creation order (and a clock stepping
// back does not break the order: the factory keeps counting from the last id).
const ulid = monotonicFactory();

/**
 * A new time-sortable id: the prefix, `_`, then a lower-case ULID (26 Crockford base32 chars,
 * 48-bit millisecond time + 80 random bits). Lower case because ids appear in URLs and in
 * Kubernetes names, which must be lower case.
 *
 * @example
 * const id = newId("tnt"); // "tnt_01jd8x3k5q0v8m2c7r9s4t6w1y"
 */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid().toLowerCase()}`;
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
