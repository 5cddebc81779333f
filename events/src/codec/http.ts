import { AppError } from "@maas/errors";
import { type CloudEvent, HTTP } from "cloudevents";
import { isJsonContentType, type MaasEvent } from "../event/maas-event.js";
import { validateEvent } from "../event/validate-event.js";
import { asInvalidEvent, requireStructuredAttributes } from "./errors.js";

export type HttpHeadersInput = Record<string, string | string[] | undefined> | Headers;

export interface EncodedHttp {
  headers: Record<string, string>;
  body: string;
}

const decoder = new TextDecoder();

function lowerCaseHeaders(input: HttpHeadersInput): Record<string, string> {
  const out: Record<string, string> = {};
  if (input instanceof Headers) {
    input.forEach((value, key) => {
      out[key.toLowerCase()] = value;
    });
    return out;
  }
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    // HTTP allows a repeated header; a CloudEvent attribute has one value, the first wins.
    const v = Array.isArray(value) ? value[0] : value;
    if (v !== undefined) out[key.toLowerCase()] = v;
  }
  return out;
}

function mediaType(contentType: string | undefined): string {
  return contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * Reads an HTTP request as a CloudEvent in binary (HTTP protocol binding §3.1: attributes in `ce-`
 * headers, data in the body) or structured mode (§3.2: `application/cloudevents+json` body), then
 * validates it against the spec and the catalog. Batched mode (§3.3) is refused: a receiver handles one
 * event per request so a failure maps to one status.
 *
 * @example
 * const ev = decodeHttp(c.req.raw.headers, await c.req.text());
 */
export function decodeHttp(headers: HttpHeadersInput, body: string | Uint8Array): MaasEvent {
  const h = lowerCaseHeaders(headers);
  const text = typeof body === "string" ? body : decoder.decode(body);
  const type = mediaType(h["content-type"]);
  let event: CloudEvent<unknown>;
  try {
    if (type === "application/cloudevents-batch+json") {
      throw new AppError("INVALID_EVENT", "batched content mode is not accepted; send one event per request");
    }
    if (type.startsWith("application/cloudevents")) {
      if (type !== "application/cloudevents+json") {
        throw new AppError("INVALID_EVENT", `unsupported structured event format ${type}`);
      }
      const json: unknown = JSON.parse(text);
      requireStructuredAttributes(json);
      // Hand the SDK a content type its parser table knows; parameters (charset) do not change JSON.
      event = HTTP.toEvent({
        headers: { "content-type": "application/cloudevents+json" },
        body: text,
      }) as CloudEvent<unknown>;
    } else {
      if (!h["ce-id"]) throw new AppError("INVALID_EVENT", "no CloudEvent in request (no ce-id header)");
      // Empty body means no data; JSON data the SDK's parser table misses is decoded in validateEvent.
      event = HTTP.toEvent({ headers: h, body: text === "" ? undefined : text }) as CloudEvent<unknown>;
    }
  } catch (err) {
    throw asInvalidEvent(err, "malformed CloudEvent");
  }
  if (Array.isArray(event)) throw new AppError("INVALID_EVENT", "batched content mode is not accepted");
  return validateEvent(event);
}

function stringHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || value === null) continue;
    out[key] = String(value);
  }
  return out;
}

/** Body text for a binary-mode message: JSON data is always JSON-encoded, even a bare string. */
export function dataBody(event: MaasEvent): string {
  const data = event.data;
  if (data === undefined) return "";
  if (isJsonContentType(event.datacontenttype) || event.datacontenttype === undefined) {
    return JSON.stringify(data);
  }
  if (typeof data === "string") return data;
  if (data instanceof Uint8Array) return Buffer.from(data).toString("utf8");
  return JSON.stringify(data);
}

/**
 * Binary content mode (HTTP protocol binding §3.1): attributes as `ce-*` headers, `datacontenttype`
 * as Content-Type, data as the body. What Knative components send each other.
 */
export function encodeHttpBinary(event: MaasEvent): EncodedHttp {
  const message = HTTP.binary(event);
  const headers = stringHeaders(message.headers as Record<string, unknown>);
  if (!event.datacontenttype) headers["content-type"] = "application/json";
  return { headers, body: dataBody(event) };
}

/** Structured content mode (HTTP protocol binding §3.2): the whole event as `application/cloudevents+json`. */
export function encodeHttpStructured(event: MaasEvent): EncodedHttp {
  const message = HTTP.structured(event);
  return {
    headers: stringHeaders(message.headers as Record<string, unknown>),
    body: String(message.body),
  };
}
