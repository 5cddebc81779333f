import { validationError } from "@maas/errors";
import { CloudEvent } from "cloudevents";
import type { EventDefinition } from "../catalog/define-event.js";
import { newEventId } from "./event-id.js";
import type { MaasEvent } from "./maas-event.js";

export interface CreateEventInit<T> {
  /** URI-reference of the producer, e.g. `/functions/control`. */
  source: string;
  data: T;
  /** Defaults to `data.tenantId` when the data has one. */
  tenantid?: string;
  subject?: string;
  id?: string;
  time?: string;
  traceparent?: string;
}

function tenantOf(data: unknown): string | undefined {
  if (typeof data === "object" && data !== null && "tenantId" in data) {
    const t = (data as { tenantId: unknown }).tenantId;
    if (typeof t === "string") return t;
  }
  return undefined;
}

/**
 * Builds a valid, frozen CloudEvent of a catalog type. The data is parsed with the type's schema
 * (throws AppError VALIDATION_FAILED), `partitionkey` is the tenant so Kafka keeps one tenant's events
 * in order on one partition.
 *
 * @example
 * const ev = createEvent(events.tenantCreated, {
 *   source: "/functions/control",
 *   data: { tenantId: "tnt_1", slug: "acme", name: "Acme", plan: "free" },
 * });
 * ev.type; // "io.maas.tenant.created.v1"; ev.partitionkey === "tnt_1"
 */
export function createEvent<T>(def: EventDefinition<T>, init: CreateEventInit<T>): MaasEvent<T> {
  const parsed = def.data.safeParse(init.data);
  if (!parsed.success) throw validationError(parsed.error, `${def.type} data`);
  const tenantid = init.tenantid ?? tenantOf(parsed.data);
  const attrs: Record<string, unknown> = {
    specversion: "1.0",
    id: init.id ?? newEventId(),
    type: def.type,
    source: init.source,
    time: init.time ?? new Date().toISOString(),
    datacontenttype: "application/json",
    data: parsed.data,
  };
  if (init.subject !== undefined) attrs.subject = init.subject;
  if (tenantid !== undefined) {
    attrs.tenantid = tenantid;
    attrs.partitionkey = tenantid;
  }
  if (init.traceparent !== undefined) attrs.traceparent = init.traceparent;
  // strict: the SDK validates against the spec schema and freezes the instance.
  return new CloudEvent<T>(attrs, true);
}
