import { z } from "zod";

/**
 * An id with its type prefix (`tnt_…`, `mdl_…`), the same shape as `idSchema` in @maas/db (lower-case
 * base32 tail). Repeated here rather than imported so the catalog does not pull database drivers into
 * every function. A regex rather than `startsWith` so the JSON Schema carries a plain `pattern`.
 */
export function prefixedId(prefix: string) {
  return z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{1,64}$`), `expected an id like ${prefix}_…`);
}

export const tenantId = prefixedId("tnt");
export const modelId = prefixedId("mdl");
export const modelVersionId = prefixedId("mver");
export const deploymentId = prefixedId("dep");
export const invoiceId = prefixedId("inv");
export const apiKeyId = prefixedId("key");

/** UTC timestamps as RFC 3339 with a `Z` offset (DESIGN: time is UTC). */
export const utcTime = z.iso.datetime();
/** Money in integer micro-units (1 USD = 1_000_000). */
export const micros = z.int().nonnegative();
export const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a lower-case hex sha256");
