import type { z } from "zod";
import { AppError } from "./app-error.js";

/** Field-level messages for a failed zod parse: `[{ path: "a.b", message }]`. */
export function zodIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}

/** A 400 VALIDATION_FAILED carrying each field's problem. */
export function validationError(error: z.ZodError, what = "request"): AppError {
  const issues = zodIssues(error);
  const first = issues[0];
  const summary = first ? `${first.path || what}: ${first.message}` : "invalid";
  return new AppError("VALIDATION_FAILED", `invalid ${what}: ${summary}`, { details: { issues } });
}
