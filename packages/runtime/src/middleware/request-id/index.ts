import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../types.js";

export const REQUEST_ID_HEADER = "x-request-id";

/** Printable, header- and log-safe, bounded: anything else from a caller is replaced, not trusted. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestIdOptions {
  /** Header read from the request and written on the response. */
  header?: string;
  /** Makes a new id when the caller sent none or an unusable one. */
  generate?: () => string;
}

/** A fresh `req_` id: 32 hex characters, no dashes, so it survives copy-paste from logs. */
export function newRequestId(): string {
  return `req_${randomUUID().replaceAll("-", "")}`;
}

export function isSaneRequestId(value: string | undefined): value is string {
  return value !== undefined && SANE_REQUEST_ID.test(value);
}

/**
 * Gives every request an id: the caller's `x-request-id` when it is sane (so one id follows a
 * request through the gateway, queue-proxy and a function), else a new `req_…`. Echoed on the response.
 *
 * @example
 * app.use(requestId());
 * app.get("/", (c) => c.text(c.get("requestId")));
 */
export function requestId(options: RequestIdOptions = {}): MiddlewareHandler<AppEnv> {
  const header = options.header ?? REQUEST_ID_HEADER;
  const generate = options.generate ?? newRequestId;
  return async function requestIdMiddleware(c, next) {
    const incoming = c.req.header(header);
    const id = isSaneRequestId(incoming) ? incoming : generate();
    c.set("requestId", id);
    await next();
    // After next, so error responses (onError) and handlers' own Responses carry it too; skipped
    // when the handler wrote it itself (requestIdInResponse).
    if (c.get("requestIdInResponse") !== true) c.res.headers.set(header, id);
  };
}
