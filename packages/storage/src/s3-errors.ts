import { AppError } from "@maas/errors";

/** Errors a socket gives when S3 is down or unreachable (Node's codes and the SDK's names). */
const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "TimeoutError",
  "RequestTimeout",
  "ServiceUnavailable",
  "SlowDown",
  "InternalError",
]);

const INVALID = new Set([
  "InvalidPart",
  "InvalidPartOrder",
  "EntityTooSmall",
  "EntityTooLarge",
  "InvalidArgument",
  "InvalidRange",
  "IncompleteBody",
  "InvalidRequest",
  "KeyTooLongError",
  "InvalidDigest",
  "BadDigest",
]);

const MISSING = new Set(["NoSuchUpload", "NoSuchKey", "NotFound"]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The S3 error name of anything the SDK threw (`NoSuchUpload`, `ECONNREFUSED`…), if any. */
export function s3ErrorName(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as SdkErrorShape;
  return e.code && NETWORK.has(e.code) ? e.code : e.name;
}

/**
 * Maps what the S3 SDK throws to the platform's codes, so a caller never branches on SDK names:
 * NOT_FOUND (missing upload/object), VALIDATION_FAILED (S3 refused the input),
 * UPSTREAM_UNAVAILABLE (network, 5xx, credentials or bucket problems: the store is unusable).
 */
export function toAppError(err: unknown, what: string): AppError {
  if (err instanceof AppError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkErrorShape;
  const name = s3ErrorName(err) ?? "";
  const status = e.$metadata?.httpStatusCode;
  const detail = e.message ? `: ${e.message}` : "";
  if (MISSING.has(name) || (status === 404 && name !== "NoSuchBucket")) {
    return new AppError("NOT_FOUND", `${what} not found`, { cause: err, details: { s3: name } });
  }
  if (INVALID.has(name) || status === 416) {
    return new AppError("VALIDATION_FAILED", `${what} refused by the object store (${name})${detail}`, {
      cause: err,
      details: { s3: name },
    });
  }
  if (!NETWORK.has(name) && e.$metadata === undefined) return AppError.from(err); // not from S3: a bug
  if (NETWORK.has(name) || status === undefined || status >= 500) {
    return new AppError(
      "UPSTREAM_UNAVAILABLE",
      `object store unavailable during ${what} (${name || "error"})`,
      {
        cause: err,
        retryAfterSeconds: 1,
        details: { s3: name },
      },
    );
  }
  // 403 (credentials), NoSuchBucket, and other 4xx the platform never causes: the store is misconfigured.
  return new AppError("UPSTREAM_UNAVAILABLE", `object store refused ${what} (${name || status})${detail}`, {
    cause: err,
    details: { s3: name, status },
  });
}
