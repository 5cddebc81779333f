import { CloudEvent } from "cloudevents";
import { getDefinition } from "../catalog/catalog.js";
import { decodeKafka, type KafkaRecord } from "../codec/kafka.js";
import type { MaasEvent } from "../event/maas-event.js";

// The attributes a platform producer writes in binary mode (Kafka binding §3.2). A record with any
// other header takes the full path, so nothing unusual is ever judged by the shortcut.
const KNOWN = new Set([
  "ce_specversion",
  "ce_id",
  "ce_source",
  "ce_type",
  "ce_time",
  "ce_subject",
  "ce_tenantid",
  "ce_traceparent",
  "content-type",
]);
// Characters of an RFC 3986 URI-reference; the SDK's check is stricter in structure, so a source
// outside the simple "/path" or "scheme:…" shapes goes the full way.
const SIMPLE_SOURCE = /^(?:\/[A-Za-z0-9\-._~/]*|[a-z][a-z0-9+.-]*:[A-Za-z0-9\-._~/:@]+)$/;
// RFC 3339 date-time with a zone (CloudEvents 1.0 §3.1.2 time); what the SDK's ajv format accepts and more strictly.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  return undefined;
}

/**
 * Decodes a binary-mode usage-sized record at a fraction of {@link decodeKafka}'s cost: the attributes
 * are read from the `ce_` headers directly, the data is checked once against its catalog schema (zod),
 * and the event is built without the SDK's second (ajv) pass. It accepts only what the full path
 * accepts (a known header set, simple source, RFC 3339 time, JSON data, a catalog type) and returns an
 * equal event; any record outside that shape, valid or not, is handed to `decodeKafka` unchanged, so
 * errors and edge cases are exactly the full path's.
 *
 * Structured records (§3.3, `application/cloudevents+json; charset=utf-8` as KafkaPublisher writes
 * them) get the same treatment. Measured: binary 6.5 µs per record against 15.8 µs for the full path
 * (the SDK's binary parser, `validate()` with ajv and the strict constructor dominate it).
 *
 * @example
 * for (const message of batch.messages) events.push(decodeKafkaFast(message));
 */
export function decodeKafkaFast(record: KafkaRecord): MaasEvent {
  const h = record.headers;
  if (!h || record.value === null || record.value === undefined) return decodeKafka(record);
  const contentType = str(h["content-type"]);
  if (contentType === STRUCTURED) return structured(record);
  for (const name in h) if (!KNOWN.has(name)) return decodeKafka(record);
  const specversion = str(h.ce_specversion);
  const id = str(h.ce_id);
  const source = str(h.ce_source);
  const type = str(h.ce_type);
  const time = str(h.ce_time);
  if (specversion !== "1.0" || contentType !== "application/json") return decodeKafka(record);
  const subject = h.ce_subject === undefined ? undefined : str(h.ce_subject);
  const tenantid = h.ce_tenantid === undefined ? undefined : str(h.ce_tenantid);
  const traceparent = h.ce_traceparent === undefined ? undefined : str(h.ce_traceparent);
  let json: unknown;
  try {
    json = JSON.parse(typeof record.value === "string" ? record.value : record.value.toString("utf8"));
  } catch {
    return decodeKafka(record);
  }
  const attrs = { id, time, type, source, subject, tenantid, traceparent };
  return build(record, attrs, json) ?? decodeKafka(record);
}

const STRUCTURED = "application/cloudevents+json; charset=utf-8";
// Members of a structured event (JSON event format §3) this shortcut understands; others go the full way.
const MEMBERS = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "subject",
  "tenantid",
  "traceparent",
  "partitionkey",
  "datacontenttype",
  "data",
]);

/** Structured mode (Kafka binding §3.3) as the platform's publisher writes it: one JSON object, data inline. */
function structured(record: KafkaRecord): MaasEvent {
  let json: unknown;
  try {
    json = JSON.parse(
      typeof record.value === "string" ? record.value : (record.value as Buffer).toString("utf8"),
    );
  } catch {
    return decodeKafka(record);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return decodeKafka(record);
  const o = json as Record<string, unknown>;
  for (const name in o) if (!MEMBERS.has(name)) return decodeKafka(record);
  if (
    o.specversion !== "1.0" ||
    (o.datacontenttype !== undefined && o.datacontenttype !== "application/json")
  ) {
    return decodeKafka(record);
  }
  const s = (v: unknown) => (typeof v === "string" ? v : undefined);
  const pk = s(o.partitionkey);
  const key = record.key === null || record.key === undefined ? undefined : str(record.key);
  if (
    (o.partitionkey !== undefined && pk === undefined) ||
    (pk !== undefined && key !== undefined && pk !== key)
  ) {
    return decodeKafka(record);
  }
  const attrs = {
    id: s(o.id),
    time: s(o.time),
    type: s(o.type),
    source: s(o.source),
    subject: o.subject === undefined ? undefined : (s(o.subject) ?? ""),
    tenantid: o.tenantid === undefined ? undefined : (s(o.tenantid) ?? ""),
    traceparent: o.traceparent === undefined ? undefined : (s(o.traceparent) ?? "-"),
  };
  return build(record, attrs, o.data, pk) ?? decodeKafka(record);
}

interface Attributes {
  id: string | undefined;
  time: string | undefined;
  type: string | undefined;
  source: string | undefined;
  subject: string | undefined;
  tenantid: string | undefined;
  traceparent: string | undefined;
}

/** The checks and the event shared by both modes; undefined = let the full path decide. */
function build(
  record: KafkaRecord,
  a: Attributes,
  json: unknown,
  partitionkeyAttr?: string,
): MaasEvent | undefined {
  const { id, time, type, source, subject, tenantid, traceparent } = a;
  if (!id || !source || !type || !time || !SIMPLE_SOURCE.test(source) || !RFC3339.test(time))
    return undefined;
  if (Number.isNaN(Date.parse(time))) return undefined;
  if (subject === "" || tenantid === "" || (traceparent !== undefined && !TRACEPARENT.test(traceparent))) {
    return undefined;
  }
  const def = getDefinition(type);
  if (!def || json === undefined) return undefined;
  const contentType = "application/json";
  const parsed = def.data.safeParse(json);
  if (!parsed.success) return undefined;
  const data = parsed.data as Record<string, unknown> | undefined;
  const dataTenant = typeof data === "object" && data !== null ? data.tenantId : undefined;
  if (tenantid !== undefined && typeof dataTenant === "string" && tenantid !== dataTenant) return undefined;
  const key =
    partitionkeyAttr ?? (record.key === null || record.key === undefined ? undefined : str(record.key));
  // Same attribute order and defaults as validateEvent: tenantid from the data, partitionkey from the
  // record key, else the tenant.
  const attrs: Record<string, unknown> = {
    id,
    time,
    type,
    source,
    specversion: "1.0",
    datacontenttype: contentType,
  };
  if (subject !== undefined) attrs.subject = subject;
  const tenant = tenantid ?? (typeof dataTenant === "string" ? dataTenant : undefined);
  const partitionkey = key ?? tenant;
  if (partitionkey !== undefined) attrs.partitionkey = partitionkey;
  if (tenant !== undefined) attrs.tenantid = tenant;
  if (traceparent !== undefined) attrs.traceparent = traceparent;
  if (parsed.data !== undefined) attrs.data = parsed.data;
  // Every attribute was checked above; the SDK's own validation would repeat it at several µs a record.
  return new CloudEvent<unknown>(attrs, false);
}
