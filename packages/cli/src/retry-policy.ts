import { ExponentialBackoff, handleWhen, type RetryPolicy, retry } from "cockatiel";
import { isCliError } from "./cli-error.js";

export interface RetryOptions {
  /** Retries after the first attempt; default 8 (with backoff capped at 10 s: about a minute of outage). */
  retries?: number;
  /** First delay in ms; default 200. Later delays grow ×2 with decorrelated jitter. */
  initialDelayMs?: number;
  /** Cap on one delay in ms; default 10,000. */
  maxDelayMs?: number;
}

/**
 * Whether another attempt can help: network failures and 408/429/5xx can; a 4xx answer (bad key,
 * quota, validation) will not change by asking again, and neither will a Ctrl-C.
 */
export function isRetryable(err: unknown): boolean {
  if (isCliError(err)) return err.retryable;
  if (err instanceof Error && err.name === "AbortError") return false;
  // Errors thrown below the CLI's own wrapping: sockets (ECONNRESET, EPIPE) and undici's UND_ERR_*.
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && (code.startsWith("UND_ERR") || code.startsWith("E"));
}

/**
 * The retry policy for part uploads and idempotent API calls: exponential backoff with decorrelated
 * jitter (many parallel parts failing together must not retry in lockstep), only on retryable errors.
 *
 * @example
 * const policy = createRetryPolicy({ retries: 5 });
 * const etag = await policy.execute(({ signal }) => putPart(..., signal), abortSignal);
 */
export function createRetryPolicy(options: RetryOptions = {}): RetryPolicy {
  return retry(handleWhen(isRetryable), {
    maxAttempts: options.retries ?? 8,
    backoff: new ExponentialBackoff({
      initialDelay: options.initialDelayMs ?? 200,
      maxDelay: options.maxDelayMs ?? 10_000,
    }),
  });
}
