import { AppError } from "@maas/errors";
import { type CloudEvent, HTTP, Kafka, type KafkaMessage } from "cloudevents";
import type { MaasEvent } from "../event/maas-event.js";
import { validateEvent } from "../event/validate-event.js";
import { asInvalidEvent, requireStructuredAttributes } from "./errors.js";
import { dataBody } from "./http.js";

type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/** A Kafka record as kafkajs hands it over (and as any other client can produce it). */
export interface KafkaRecord {
  key: string | Buffer | null;
  value: Buffer | string | null;
  headers?: Record<string, HeaderValue>;
  timestamp?: string;
}

export interface EncodedKafka {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  /** Record timestamp (ms since epoch, as kafkajs wants it) taken from the event's `time`. */
  timestamp?: string;
}

export type KafkaMode = "binary" | "structured";

const STRUCTURED = "application/cloudevents+json; charset=utf-8";

function text(v: Buffer | string): string {
  return typeof v === "string" ? v : v.toString("utf8");
}

/** Kafka header names are case-sensitive bytes; CloudEvents names are lower-case (binding §3.2.3.1). */
function normalizeHeaders(headers: Record<string, HeaderValue> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    // kafkajs gives an array for a repeated header; the last write wins as in a map.
    const one = Array.isArray(value) ? value[value.length - 1] : value;
    if (one !== undefined) out[key.toLowerCase()] = text(one);
  }
  return out;
}

function looksLikeJson(value: string): boolean {
  try {
    JSON.parse(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads a Kafka record as a CloudEvent in binary (Kafka protocol binding §3.2: `ce_` headers, data in
 * the value, `content-type` header = datacontenttype) or structured mode (§3.3: the value is an
 * `application/cloudevents+json` event). The record key becomes the `partitionkey` extension (§3.1).
 * Records made by plain clients (kcat -H ce_id=…) are accepted like the platform's own.
 *
 * @example
 * await consumer.run({ eachMessage: async ({ message }) => handle(decodeKafka(message)) });
 */
export function decodeKafka(record: KafkaRecord): MaasEvent {
  const headers = normalizeHeaders(record.headers);
  const key = record.key === null || record.key === undefined ? undefined : text(record.key);
  if (record.value === null || record.value === undefined) {
    throw new AppError("INVALID_EVENT", "record has no value (tombstone), not a CloudEvent");
  }
  const value = text(record.value);
  const contentType = headers["content-type"]?.toLowerCase() ?? "";
  let event: CloudEvent<unknown>;
  try {
    if (contentType.startsWith("application/cloudevents-batch")) {
      throw new AppError("INVALID_EVENT", "batched content mode is not accepted");
    }
    if (contentType.startsWith("application/cloudevents")) {
      if (!contentType.startsWith("application/cloudevents+json")) {
        throw new AppError("INVALID_EVENT", `unsupported structured event format ${contentType}`);
      }
      const json: unknown = JSON.parse(value);
      requireStructuredAttributes(json);
      // The JSON event format is the same on every transport; the SDK's Kafka structured parser
      // crashes on an event without `time` (an OPTIONAL attribute), so parse through the HTTP one.
      event = HTTP.toEvent({
        headers: { "content-type": "application/cloudevents+json" },
        body: value,
      }) as CloudEvent<unknown>;
      if (key !== undefined && event.partitionkey === undefined) {
        event = event.cloneWith({ partitionkey: key }, false);
      }
    } else if (headers.ce_id) {
      if (!headers["content-type"] && !headers.ce_datacontenttype && looksLikeJson(value)) {
        // kcat users often omit the content-type header; a JSON value is the only thing our catalog carries.
        headers["content-type"] = "application/json";
      }
      const message: KafkaMessage<string> = { headers, key: key as string, value, body: value };
      event = Kafka.toEvent(message) as CloudEvent<unknown>;
    } else {
      throw new AppError(
        "INVALID_EVENT",
        "record is not a CloudEvent (no ce_id header, no structured content type)",
      );
    }
  } catch (err) {
    throw asInvalidEvent(err, "malformed CloudEvent record");
  }
  if (Array.isArray(event)) throw new AppError("INVALID_EVENT", "batched content mode is not accepted");
  return validateEvent(event);
}

/**
 * Encodes an event as a Kafka record, binary mode by default (Kafka protocol binding §3.2) or
 * structured (§3.3). The key is the `partitionkey` extension (§3.1), i.e. the tenant, so one tenant's
 * events stay ordered on one partition.
 *
 * @example
 * await producer.send({ topic: "maas.events", messages: [encodeKafka(ev)] });
 */
export function encodeKafka(event: MaasEvent, mode: KafkaMode = "binary"): EncodedKafka {
  const pk = event.partitionkey;
  const key = typeof pk === "string" ? pk : pk instanceof Uint8Array ? Buffer.from(pk).toString() : null;
  const timestamp = event.time ? String(Date.parse(event.time)) : undefined;
  if (mode === "structured") {
    const message = Kafka.structured(event);
    return {
      key,
      value: Buffer.from(String(message.value)),
      headers: { "content-type": STRUCTURED },
      timestamp,
    };
  }
  const message = Kafka.binary(event);
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(message.headers)) {
    if (v === undefined || v === null) continue;
    // §3.2.1: datacontenttype travels as content-type, not as a ce_ header; the key carries partitionkey.
    if (name === "ce_datacontenttype" || name === "ce_partitionkey") continue;
    headers[name] = String(v);
  }
  headers["content-type"] = event.datacontenttype ?? "application/json";
  return { key, value: Buffer.from(dataBody(event)), headers, timestamp };
}
