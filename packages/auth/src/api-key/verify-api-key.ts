import type { Database } from "@maas/db";
import type { Kysely } from "kysely";
import { unauthenticated, type VerifyResult } from "../principal.js";
import { apiKeyMatches, parseApiKey } from "./api-key.js";
import { type ApiKeyRecord, lookupApiKey } from "./lookup-api-key.js";

const INVALID = "invalid API key";

/**
 * Decides a presented key against its stored record (undefined: no key with that prefix). Pure, so
 * the cached path and the uncached path decide identically. The key's state (revoked, tenant
 * suspended) is told only to a caller who proved it holds the secret.
 */
export function evaluateApiKey(token: string, record: ApiKeyRecord | undefined): VerifyResult {
  // An unknown prefix answers faster than a wrong secret; that reveals only whether a prefix
  // exists, which is not secret (listings show it) and is worthless without the 256-bit secret.
  if (record === undefined) return unauthenticated("unknown_key", INVALID);
  if (!apiKeyMatches(token, record.hash)) return unauthenticated("wrong_secret", INVALID);
  if (record.revoked) return unauthenticated("revoked", "API key revoked");
  if (record.tenantStatus !== "active")
    return unauthenticated("tenant_inactive", `tenant ${record.tenantStatus}`);
  return {
    ok: true,
    principal: {
      kind: "api_key",
      tenantId: record.tenantId,
      role: record.role,
      keyId: record.keyId,
      subject: record.keyId,
      operator: false,
    },
  };
}

/**
 * Verifies an API key against the database, uncached: parse, look up by prefix, compare the hash
 * in constant time, then check revocation and the tenant's status.
 *
 * @example
 * const result = await verifyApiKey(db, "maas_0123456789ab_…");
 * if (result.ok) console.log(result.principal.tenantId);
 */
export async function verifyApiKey(db: Kysely<Database>, token: string): Promise<VerifyResult> {
  const parsed = parseApiKey(token);
  if (parsed === undefined) return unauthenticated("malformed", INVALID);
  return evaluateApiKey(token, await lookupApiKey(db, parsed.prefix));
}
