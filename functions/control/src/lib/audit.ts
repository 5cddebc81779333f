import type { Database, JsonObject } from "@maas/db";
import type { Transaction } from "kysely";

export interface AuditEntry {
  tenantId: string;
  actor: string;
  requestId: string | null;
  /** `<resource>.<verb>`, e.g. `model.create`, `upload.complete`. */
  action: string;
  /** The id of the thing acted on. */
  target: string | null;
  details?: JsonObject;
}

/**
 * Appends one audit entry inside the caller's transaction, so the entry exists exactly when the
 * change it records does.
 *
 * @example
 * await appendAudit(trx, { ...scope, action: "model.create", target: model.id, details: { name } });
 */
export async function appendAudit(trx: Transaction<Database>, entry: AuditEntry): Promise<void> {
  await trx
    .insertInto("audit_log")
    .values({
      tenant_id: entry.tenantId,
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      details: JSON.stringify(entry.details ?? {}),
      request_id: entry.requestId,
    })
    .execute();
}
