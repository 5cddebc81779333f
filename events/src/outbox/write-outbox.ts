import type { Database } from "@maas/db";
import type { Kysely, Transaction } from "kysely";
import { getDefinition } from "../catalog/catalog.js";
import type { MaasEvent } from "../event/maas-event.js";

export interface WriteOutboxOptions {
  /** Overrides the catalog topic (the relay's publisher routes by the catalog unless told otherwise). */
  topicFor?: (event: MaasEvent) => string;
}

/**
 * Adds events to the outbox inside the caller's transaction, so they commit or roll back with the state
 * change they describe (DESIGN §3: no state change without its event and no event without its state
 * change). In a `withTenant` transaction RLS only admits events of that tenant. The unique event id
 * makes a repeated write fail rather than enqueue an event twice.
 *
 * @example
 * await withTenant(db, tenantId, async (trx) => {
 *   await trx.insertInto("api_keys").values(key).execute();
 *   await writeOutbox(trx, [createEvent(events.tenantCreated, { source, data })]);
 * });
 */
export async function writeOutbox(
  trx: Transaction<Database> | Kysely<Database>,
  events: readonly MaasEvent[],
  options: WriteOutboxOptions = {},
): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event) => {
    const topic = options.topicFor?.(event) ?? getDefinition(event.type)?.topic;
    if (!topic) throw new Error(`no topic for event type ${event.type}: not in the catalog`);
    return {
      event_id: event.id,
      tenant_id: typeof event.tenantid === "string" ? event.tenantid : null,
      topic,
      // Structured-mode JSON (CloudEvents JSON event format): the relay rebuilds the event from it.
      event: event.toJSON(),
    };
  });
  await trx.insertInto("outbox").values(rows).execute();
}
