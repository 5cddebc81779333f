import { AppError } from "@maas/errors";

/** Any failure while turning bytes into an event is the sender's fault: INVALID_EVENT (4xx, not retried). */
export function asInvalidEvent(err: unknown, what: string): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AppError("INVALID_EVENT", `${what}: ${message}`, { cause: err });
}

/**
 * The SDK's structured-mode parser silently invents `id` and `time` when they are missing; the spec
 * (CloudEvents 1.0 §3.1 REQUIRED attributes) makes id, source, specversion and type mandatory.
 */
export function requireStructuredAttributes(json: unknown): void {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new AppError("INVALID_EVENT", "structured event must be a JSON object");
  }
  const missing = ["id", "source", "specversion", "type"].filter(
    (k) => typeof (json as Record<string, unknown>)[k] !== "string",
  );
  if (missing.length > 0) {
    throw new AppError("INVALID_EVENT", `structured event lacks required attributes: ${missing.join(", ")}`, {
      details: { missing },
    });
  }
}
