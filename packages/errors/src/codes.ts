/**
 * The fixed list of error codes every function answers with. Stable: clients branch on them.
 * Each code maps to one HTTP status so a code never means two things.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  CONCURRENCY_LIMITED: 429,
  BUDGET_EXHAUSTED: 402,
  QUOTA_EXCEEDED: 403,
  INVALID_EVENT: 400,
  UNKNOWN_EVENT_TYPE: 400,
  INTERNAL: 500,
  NOT_READY: 503,
  OVERLOADED: 503,
  UPSTREAM_UNAVAILABLE: 502,
  TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorStatus = (typeof ERROR_CODES)[ErrorCode];

/** Where a client reads about a code; one page per code. */
export function docsUrl(code: ErrorCode): string {
  return `https://docs.maas.dev/errors/${code.toLowerCase().replaceAll("_", "-")}`;
}
