import { docsUrl, ERROR_CODES, type ErrorCode, type ErrorStatus } from "./codes.js";

/** One JSON error body for every function: `{ error: { code, message, requestId, docs, details? } }`. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    requestId: string;
    docs: string;
    details?: unknown;
  };
}

export interface AppErrorOptions {
  details?: unknown;
  cause?: unknown;
  /** Seconds a client should wait before trying again (sets Retry-After). */
  retryAfterSeconds?: number;
  /** Extra response headers (e.g. RateLimit-Policy). */
  headers?: Record<string, string>;
}

/**
 * The one error type of the platform. Expected failures are returned or thrown as AppError with a
 * stable code; anything else is an unexpected bug and becomes INTERNAL.
 *
 * @example
 * throw new AppError("NOT_FOUND", "model mdl_123 not found");
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: ErrorStatus;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
  }

  toBody(requestId: string): ErrorBody {
    const body: ErrorBody = {
      error: { code: this.code, message: this.message, requestId, docs: docsUrl(this.code) },
    };
    if (this.details !== undefined) body.error.details = this.details;
    return body;
  }

  /** Turns anything thrown into an AppError; unknown errors become INTERNAL without leaking internals. */
  static from(err: unknown): AppError {
    if (err instanceof AppError) return err;
    return new AppError("INTERNAL", "internal error", { cause: err });
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
