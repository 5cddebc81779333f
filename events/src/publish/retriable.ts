/**
 * Knative's retry rule (eventing `kncloudevents` dispatcher): a delivery is retried on 404, 408, 409,
 * 429 and any 5xx, and on network errors (no status at all). Every other status is final: a 4xx means
 * the subscriber rejected the event and sending it again cannot help.
 */
export function isRetriable(status: number | undefined): boolean {
  if (status === undefined) return true;
  return (
    status === 404 || status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599)
  );
}

/**
 * The wait a subscriber asked for with Retry-After (RFC 9110 §10.2.3: delay-seconds or an HTTP-date),
 * honoured only on 429 and 503 as Knative does. Undefined when absent or unparseable.
 */
export function retryAfterMs(
  status: number | undefined,
  header: string | null | undefined,
  now: number,
): number | undefined {
  if ((status !== 429 && status !== 503) || header === null || header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
