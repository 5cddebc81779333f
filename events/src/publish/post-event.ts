import { encodeHttpBinary, encodeHttpStructured } from "../codec/http.js";
import type { MaasEvent } from "../event/maas-event.js";
import { DeliveryError } from "./delivery-error.js";

export interface PostEventOptions {
  mode?: "binary" | "structured";
  /** Whole-request deadline; default 10 s. */
  timeoutMs?: number;
  /** Extra headers (auth, tracing); CloudEvents headers win on a clash. */
  headers?: Record<string, string>;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** What the receiver answered; `headers` are lower-cased. */
export interface PostEventResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * POSTs one event to a URL, binary mode by default. Never throws on an HTTP status (the caller decides
 * what a 4xx/5xx means); throws DeliveryError (retriable) on network errors and timeouts.
 *
 * @example
 * const { status } = await postEvent(process.env.K_SINK!, ev);
 */
export async function postEvent(
  url: string,
  event: MaasEvent,
  opts: PostEventOptions = {},
): Promise<PostEventResult> {
  const encoded = opts.mode === "structured" ? encodeHttpStructured(event) : encodeHttpBinary(event);
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  try {
    const res = await doFetch(url, {
      method: "POST",
      headers: { ...opts.headers, ...encoded.headers },
      body: encoded.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Headers are kept for Retry-After and Knative reply events.
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    const reason = timedOut ? `timed out after ${timeoutMs} ms` : (err as Error).message;
    throw new DeliveryError(`POST ${url} for event ${event.id} failed: ${reason}`, {
      retriable: true,
      cause: err,
    });
  }
}
