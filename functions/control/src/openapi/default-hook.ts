import { validationError } from "@maas/errors";
import type { Context } from "hono";
import type { ZodError } from "zod";

const WHAT: Record<string, string> = {
  json: "body",
  param: "path",
  query: "query",
  header: "headers",
  form: "form",
  cookie: "cookies",
};

/**
 * The OpenAPIHono `defaultHook`: a failed request validation becomes 400 VALIDATION_FAILED with one
 * `{ path, message }` per field (thrown, so the one error handler renders it with the request id).
 */
export function validationHook(
  result: { success: true; target: string } | { success: false; target: string; error: ZodError },
  _c: Context,
): void {
  if (!result.success) throw validationError(result.error, WHAT[result.target] ?? result.target);
}
