import { isRetriable } from "./retriable.js";

/**
 * An event could not be delivered. `retriable` tells the caller whether trying again can help
 * (network errors, timeouts, 5xx, 429) or not (other 4xx: the receiver refused the event itself).
 */
export class DeliveryError extends Error {
  readonly status?: number;
  readonly retriable: boolean;

  constructor(message: string, options: { status?: number; retriable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DeliveryError";
    if (options.status !== undefined) this.status = options.status;
    this.retriable = options.retriable;
  }

  /** Knative's delivery rule (see `isRetriable`): one rule for every sender on the platform. */
  static isRetriableStatus(status: number): boolean {
    return isRetriable(status);
  }
}
