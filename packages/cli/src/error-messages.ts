import { CliError, type CliErrorCode } from "./cli-error.js";
import { EXIT, type ExitCode } from "./exit-codes.js";

interface Rule {
  exit: ExitCode;
  /** One line for a person; `m` is the server's (or the local) message. */
  line: (e: CliError) => string;
}

const num = (v: unknown): string => {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? formatBytes(n) : String(v);
};

function detail(e: CliError, key: string): unknown {
  return typeof e.details === "object" && e.details !== null
    ? (e.details as Record<string, unknown>)[key]
    : undefined;
}

function fieldIssues(e: CliError): string {
  const issues = detail(e, "issues");
  if (!Array.isArray(issues) || issues.length === 0) return e.message;
  return issues
    .map(
      (i: { path?: unknown; message?: unknown }) =>
        `${i.path === "" || i.path === undefined ? "body" : String(i.path)}: ${String(i.message)}`,
    )
    .join("; ");
}

// Every code the platform can answer with, plus the CLI's own: the Record makes a new code a type error
// here until it has a message.
const RULES: Record<CliErrorCode, Rule> = {
  BAD_REQUEST: { exit: EXIT.REJECTED, line: (e) => `bad request: ${e.message}` },
  VALIDATION_FAILED: { exit: EXIT.REJECTED, line: (e) => `invalid input: ${fieldIssues(e)}` },
  UNAUTHENTICATED: {
    exit: EXIT.AUTH,
    line: () => "not authenticated: the API key is missing, revoked or wrong; run maas login",
  },
  FORBIDDEN: {
    exit: EXIT.AUTH,
    line: (e) => `forbidden: your key's role may not do this (${e.message}); ask a tenant admin`,
  },
  NOT_FOUND: { exit: EXIT.NOT_FOUND, line: (e) => `not found: ${e.message}` },
  METHOD_NOT_ALLOWED: {
    exit: EXIT.FAILURE,
    line: (e) => `the server does not support this call (${e.message}); update maas`,
  },
  CONFLICT: {
    exit: EXIT.REJECTED,
    line: (e) => {
      const missing = detail(e, "missingParts");
      return Array.isArray(missing)
        ? `conflict: ${missing.length} part(s) missing on the server (${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", …" : ""}); run the resume command again`
        : `conflict: ${e.message}`;
    },
  },
  GONE: {
    exit: EXIT.NOT_FOUND,
    line: (e) => `gone: ${e.message} (the upload expired or was aborted; push again)`,
  },
  PAYLOAD_TOO_LARGE: { exit: EXIT.REJECTED, line: (e) => `too large: ${e.message}` },
  UNSUPPORTED_MEDIA_TYPE: { exit: EXIT.FAILURE, line: (e) => `unsupported media type: ${e.message}` },
  UNPROCESSABLE: { exit: EXIT.REJECTED, line: (e) => `cannot process: ${e.message}` },
  RATE_LIMITED: { exit: EXIT.QUOTA, line: (e) => `rate limited: ${e.message}; try again shortly` },
  CONCURRENCY_LIMITED: {
    exit: EXIT.QUOTA,
    line: (e) => `too many concurrent requests: ${e.message}; try again shortly`,
  },
  BUDGET_EXHAUSTED: { exit: EXIT.QUOTA, line: (e) => `monthly budget exhausted: ${e.message}` },
  QUOTA_EXCEEDED: {
    exit: EXIT.QUOTA,
    line: (e) => {
      const limit = detail(e, "limit");
      if (limit === undefined) return `quota exceeded: ${e.message}`;
      const used = detail(e, "used");
      const requested = detail(e, "requested");
      return `quota exceeded: limit ${num(limit)}, used ${num(used)}, this needs ${num(requested)}; delete old versions or ask for a bigger quota`;
    },
  },
  INVALID_EVENT: { exit: EXIT.FAILURE, line: (e) => `invalid event: ${e.message}` },
  UNKNOWN_EVENT_TYPE: { exit: EXIT.FAILURE, line: (e) => `unknown event type: ${e.message}` },
  INTERNAL: {
    exit: EXIT.FAILURE,
    line: (e) => `server error: ${e.message}${e.requestId ? ` (request ${e.requestId})` : ""}`,
  },
  NOT_READY: { exit: EXIT.UNAVAILABLE, line: (e) => `service not ready: ${e.message}; try again shortly` },
  OVERLOADED: { exit: EXIT.UNAVAILABLE, line: (e) => `service overloaded: ${e.message}; try again shortly` },
  UPSTREAM_UNAVAILABLE: {
    exit: EXIT.UNAVAILABLE,
    line: (e) => `a backing service is unavailable: ${e.message}; try again shortly`,
  },
  TIMEOUT: { exit: EXIT.UNAVAILABLE, line: (e) => `timed out: ${e.message}` },
  NOT_LOGGED_IN: { exit: EXIT.AUTH, line: (e) => e.message },
  NETWORK: { exit: EXIT.UNAVAILABLE, line: (e) => `network error: ${e.message}` },
  BAD_RESPONSE: { exit: EXIT.FAILURE, line: (e) => `unexpected server answer: ${e.message}` },
  LOCAL_FILE: { exit: EXIT.LOCAL_FILE, line: (e) => e.message },
  FILE_CHANGED: { exit: EXIT.LOCAL_FILE, line: (e) => e.message },
  PART_UPLOAD_FAILED: {
    exit: EXIT.UNAVAILABLE,
    line: (e) => `part upload failed after retries: ${e.message}`,
  },
  USAGE: { exit: EXIT.USAGE, line: (e) => `${e.message} (see maas --help)` },
  INTERRUPTED: { exit: EXIT.INTERRUPTED, line: () => "interrupted" },
};

/**
 * The one line and exit status for any failure. Unknown errors say what they are without a stack.
 *
 * @example
 * const { line, exit } = describeError(err); // "quota exceeded: limit 1.0 GiB, used …", 5
 */
export function describeError(err: unknown): { line: string; exit: ExitCode } {
  if (err instanceof CliError) {
    const rule = RULES[err.code];
    return { line: `maas: ${rule.line(err)}`, exit: rule.exit };
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") {
    return { line: `maas: ${(err as Error).message}`, exit: EXIT.LOCAL_FILE };
  }
  return {
    line: `maas: unexpected error: ${err instanceof Error ? err.message : String(err)}`,
    exit: EXIT.FAILURE,
  };
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
