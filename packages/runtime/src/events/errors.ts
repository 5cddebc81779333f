/*
 * Retry behaviour is an error type (as in inngest). Knative's broker retries 404/408/409/429/5xx and
 * gives up on other 4xx (then dead-letters), so the receiver maps these onto statuses it understands.
 */

/**
 * The event can never succeed (bad data that passed the schema, a deleted tenant …): answered with
 * 422, which the broker does not retry; the event goes to the dead-letter sink.
 *
 * @example
 * throw new NonRetriableError(`model version ${id} no longer exists`);
 */
export class NonRetriableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NonRetriableError";
  }
}

/**
 * The event should succeed later, not sooner than `retryAfterSeconds`: answered with 429 and
 * Retry-After, which the broker retries with backoff.
 *
 * @example
 * throw new RetryAfterError("object store is throttling", 30);
 */
export class RetryAfterError extends Error {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RetryAfterError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
