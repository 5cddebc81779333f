import type { HeaderReader } from "@maas/auth";

/** Request headers passed to the inference service; never Authorization (the tenant's secret). */
const REQUEST_HEADERS = [
  "content-type",
  "content-length",
  "inference-header-content-length",
  "accept",
  "accept-encoding",
  "content-encoding",
  "traceparent",
  "tracestate",
] as const;

/** Hop-by-hop headers (RFC 9110 §7.6.1) and ones the gateway sets itself. */
const DROP_RESPONSE = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "x-request-id",
  // An inference service has no business setting cookies on the tenant's client (and a cookie is the
  // one field that cannot be folded into one line).
  "set-cookie",
]);

export function forwardRequestHeaders(header: HeaderReader, requestId: string): Record<string, string> {
  const out: Record<string, string> = { "x-request-id": requestId };
  for (const name of REQUEST_HEADERS) {
    const value = header(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** A web Headers object as a HeaderReader. */
export function webHeaderReader(headers: Headers): HeaderReader {
  return (name) => headers.get(name) ?? undefined;
}

/** node:http's request headers as a HeaderReader (repeated fields joined as RFC 9110 §5.3 folds them). */
export function nodeHeaderReader(headers: Record<string, string | string[] | undefined>): HeaderReader {
  return (name) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
}

/**
 * The upstream's response headers for the client as a plain record (the node server writes a plain
 * record straight to the socket; a Headers object costs a copy), repeated fields folded into one
 * line (RFC 9110 §5.3), plus the gateway's own.
 */
export function responseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  extra: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (DROP_RESPONSE.has(lower)) continue;
    out[lower] = Array.isArray(value) ? value.join(", ") : value;
  }
  for (const name in extra) out[name.toLowerCase()] = extra[name] as string;
  return out;
}
