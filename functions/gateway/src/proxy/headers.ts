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
]);

export function forwardRequestHeaders(incoming: Headers, requestId: string): Record<string, string> {
  const out: Record<string, string> = { "x-request-id": requestId };
  for (const name of REQUEST_HEADERS) {
    const value = incoming.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

export function responseHeaders(upstream: Record<string, string | string[] | undefined>): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || DROP_RESPONSE.has(name.toLowerCase())) continue;
    if (Array.isArray(value)) for (const v of value) out.append(name, v);
    else out.set(name, value);
  }
  return out;
}
