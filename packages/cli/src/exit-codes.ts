/**
 * The `maas` exit statuses. Stable: scripts branch on them (documented in the package README and in
 * `maas --help`).
 */
export const EXIT = {
  OK: 0,
  /** Anything unexpected (a bug, an INTERNAL answer). */
  FAILURE: 1,
  /** Bad command line: unknown command or flag, missing argument. */
  USAGE: 2,
  /** Not logged in, key rejected (UNAUTHENTICATED) or role too weak (FORBIDDEN). */
  AUTH: 3,
  /** The model, version or upload does not exist (NOT_FOUND, GONE). */
  NOT_FOUND: 4,
  /** A tenant quota or budget refused the request (QUOTA_EXCEEDED, BUDGET_EXHAUSTED, RATE_LIMITED). */
  QUOTA: 5,
  /** The server refused the request as invalid or conflicting (VALIDATION_FAILED, CONFLICT, ...). */
  REJECTED: 6,
  /** The API or the object store could not be reached, or kept failing after retries. */
  UNAVAILABLE: 7,
  /** The local file is missing, unreadable, or no longer the file the upload started with. */
  LOCAL_FILE: 8,
  /** Ctrl-C: the upload stopped cleanly and can be resumed. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
