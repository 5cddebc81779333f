import type { ErrorCode } from "@maas/errors";

/** Failures that happen on this side of the wire, next to the server's own codes. */
export type LocalErrorCode =
  | "NOT_LOGGED_IN"
  | "NETWORK"
  | "BAD_RESPONSE"
  | "LOCAL_FILE"
  | "FILE_CHANGED"
  | "PART_UPLOAD_FAILED"
  | "USAGE"
  | "INTERRUPTED";

export type CliErrorCode = ErrorCode | LocalErrorCode;

/**
 * One error type for the CLI: a server answer (`code` from the platform body) or a local failure.
 * `retryable` tells the retry policy whether another attempt can help.
 */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly status: number | undefined;
  readonly details: unknown;
  readonly requestId: string | undefined;
  readonly retryable: boolean;

  constructor(
    code: CliErrorCode,
    message: string,
    options: {
      status?: number;
      details?: unknown;
      requestId?: string;
      retryable?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.code = code;
    this.status = options.status;
    this.details = options.details;
    this.requestId = options.requestId;
    this.retryable = options.retryable ?? false;
  }
}

export function isCliError(err: unknown): err is CliError {
  return err instanceof CliError;
}
