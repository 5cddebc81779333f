import { decodeHttp, isRetriable, type MaasEvent, postEvent, retryAfterMs } from "@maas/events";
import { backoffMs, type DeliveryPolicy } from "./delivery-spec.js";

/** What one HTTP attempt answered. `headers` are lower-cased. */
export interface AttemptResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends one event, binary mode; throws on network errors and timeouts (no status). */
export type SendEvent = (url: string, event: MaasEvent, timeoutMs: number) => Promise<AttemptResponse>;

/** The shared transport: `postEvent` from @maas/events (it keeps response headers for Retry-After and replies). */
export const sendBinary: SendEvent = (url, event, timeoutMs) => postEvent(url, event, { timeoutMs });

export interface DeliverOptions {
  /** Resolved URL of the dead-letter sink; without one an exhausted event is reported as failed. */
  deadLetter?: string | undefined;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  send?: SendEvent;
  /** Aborting stops between attempts; the outcome is then `aborted` (the caller must not commit). */
  signal?: AbortSignal;
  /** Called after every attempt, for logs and metrics. */
  onAttempt?: (info: {
    attempt: number;
    url: string;
    status?: number;
    error?: string;
    waitMs?: number;
  }) => void;
}

export type DeliveryOutcome =
  | { result: "delivered"; attempts: number; status: number; reply?: MaasEvent; replyError?: string }
  | {
      result: "dead-lettered";
      attempts: number;
      status?: number;
      error?: string;
      deadLetterStatus: number;
    }
  | { result: "failed"; attempts: number; status?: number; error?: string; deadLetterError?: string }
  | { result: "aborted"; attempts: number };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Knative caps `knativeerrordata` at 1 KiB of the subscriber's response body. */
const MAX_ERROR_DATA = 1024;

function abortableSleep(
  sleep: (ms: number) => Promise<void>,
  ms: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (!signal) return sleep(ms).then(() => true);
  return new Promise((resolve) => {
    const onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    sleep(ms).then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(!signal.aborted);
    });
  });
}

interface AttemptsResult {
  attempts: number;
  response?: AttemptResponse;
  error?: string;
  aborted?: boolean;
}

/** Tries `url` up to 1 + policy.retry times; stops at the first success or non-retriable status. */
async function attemptAll(
  event: MaasEvent,
  url: string,
  policy: DeliveryPolicy,
  opts: DeliverOptions,
): Promise<AttemptsResult> {
  const send = opts.send ?? sendBinary;
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  let attempt = 0;
  for (;;) {
    attempt += 1;
    let response: AttemptResponse | undefined;
    let error: string | undefined;
    try {
      response = await send(url, event, policy.timeoutMs);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const status = response?.status;
    if (status !== undefined && status >= 200 && status < 300) {
      opts.onAttempt?.({ attempt, url, status });
      return { attempts: attempt, response };
    }
    const retryNumber = attempt; // the next try is retry number `attempt`
    if (!isRetriable(status) || retryNumber > policy.retry) {
      opts.onAttempt?.({ attempt, url, status, error });
      return { attempts: attempt, response, error };
    }
    let waitMs = backoffMs(policy, retryNumber);
    const asked = retryAfterMs(status, response?.headers["retry-after"], now());
    if (asked !== undefined) {
      // Knative honours Retry-After when it asks for longer than the backoff, bounded by retryAfterMax.
      const bounded = policy.retryAfterMaxMs === undefined ? asked : Math.min(asked, policy.retryAfterMaxMs);
      waitMs = Math.max(waitMs, bounded);
    }
    opts.onAttempt?.({ attempt, url, status, error, waitMs });
    if (!(await abortableSleep(sleep, waitMs, opts.signal))) return { attempts: attempt, aborted: true };
  }
}

/** Knative's dead-letter extensions (eventing `kncloudevents`): where it failed, with what status and body. */
export function withErrorExtensions(event: MaasEvent, dest: string, response?: AttemptResponse): MaasEvent {
  const ext: Record<string, string> = { knativeerrordest: dest };
  if (response) {
    ext.knativeerrorcode = String(response.status);
    const body = Buffer.from(response.body, "utf8").subarray(0, MAX_ERROR_DATA);
    if (body.length > 0) ext.knativeerrordata = body.toString("base64");
  }
  return event.cloneWith(ext, true) as MaasEvent;
}

/** A 2xx with a CloudEvent in it is a reply (Knative forwards replies to the Broker). */
function replyOf(response: AttemptResponse): { reply?: MaasEvent; replyError?: string } {
  const contentType = response.headers["content-type"] ?? "";
  if (!response.headers["ce-id"] && !contentType.startsWith("application/cloudevents")) return {};
  try {
    return { reply: decodeHttp(response.headers, response.body) };
  } catch (err) {
    return { replyError: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Delivers one event as Knative does: POST in binary mode, retry retriable failures (404, 408, 409,
 * 429, 5xx, network) with the policy's backoff (Retry-After honoured on 429/503), then, when retries are
 * exhausted or the status is final, send the event to the dead-letter sink with `knativeerrorcode`,
 * `knativeerrordest` and `knativeerrordata` (base64 of the response body). The dead-letter sink is
 * tried with the same retry policy. Never throws: the outcome says what happened.
 *
 * @example
 * const outcome = await deliverWithRetry(event, "http://127.0.0.1:8103/", policy, { deadLetter: dlqUrl });
 * if (outcome.result === "failed") log.error(outcome, "event lost");
 */
export async function deliverWithRetry(
  event: MaasEvent,
  subscriberUrl: string,
  policy: DeliveryPolicy,
  opts: DeliverOptions = {},
): Promise<DeliveryOutcome> {
  const first = await attemptAll(event, subscriberUrl, policy, opts);
  if (first.aborted) return { result: "aborted", attempts: first.attempts };
  const status = first.response?.status;
  if (first.response && status !== undefined && status >= 200 && status < 300) {
    return { result: "delivered", attempts: first.attempts, status, ...replyOf(first.response) };
  }
  const failure = {
    attempts: first.attempts,
    ...(status === undefined ? {} : { status }),
    ...(first.error === undefined ? {} : { error: first.error }),
  };
  if (!opts.deadLetter) return { result: "failed", ...failure };

  const dead = withErrorExtensions(event, subscriberUrl, first.response);
  const dl = await attemptAll(dead, opts.deadLetter, policy, { ...opts, onAttempt: undefined });
  if (dl.aborted) return { result: "aborted", attempts: first.attempts };
  const dlStatus = dl.response?.status;
  if (dlStatus !== undefined && dlStatus >= 200 && dlStatus < 300) {
    return { result: "dead-lettered", ...failure, deadLetterStatus: dlStatus };
  }
  return {
    result: "failed",
    ...failure,
    deadLetterError: dl.error ?? `dead-letter sink answered ${String(dlStatus)}`,
  };
}
