import type { Context } from "hono";
import { V2Error } from "./v2-error.js";

/** Answers a thrown V2Error in the v2 shape; rethrows anything else to the platform error handler. */
export function v2ErrorResponse(c: Context, err: unknown): Response {
  if (!(err instanceof V2Error)) throw err;
  const headers: Record<string, string> = {};
  if (err.retryAfterSeconds !== undefined)
    headers["retry-after"] = String(Math.max(1, Math.ceil(err.retryAfterSeconds)));
  return c.json({ error: err.message }, err.status, headers);
}
