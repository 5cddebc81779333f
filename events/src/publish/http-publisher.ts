import type { MaasEvent } from "../event/maas-event.js";
import { DeliveryError } from "./delivery-error.js";
import { type PostEventOptions, postEvent } from "./post-event.js";
import type { EventPublisher } from "./publisher.js";

export interface HttpPublisherOptions extends PostEventOptions {
  /** The sink, usually `K_SINK` injected by a SinkBinding or a source. */
  url: string;
}

/**
 * Publishes by POSTing each event, in order, to one sink URL in binary mode. A non-2xx answer is a
 * DeliveryError (retriable for 5xx/408/429), so `publish` resolves only when every event was accepted.
 *
 * @example
 * const publisher = new HttpPublisher({ url: env.K_SINK });
 * await publisher.publish([createEvent(events.deploymentReady, { source, data })]);
 */
export class HttpPublisher implements EventPublisher {
  readonly url: string;
  readonly #options: PostEventOptions;

  constructor(options: HttpPublisherOptions | string) {
    const opts = typeof options === "string" ? { url: options } : options;
    const { url, ...rest } = opts;
    this.url = url;
    this.#options = rest;
  }

  async publish(events: readonly MaasEvent[]): Promise<void> {
    for (const event of events) {
      const res = await postEvent(this.url, event, this.#options);
      if (res.status < 200 || res.status >= 300) {
        throw new DeliveryError(`sink ${this.url} answered ${res.status} for event ${event.id}`, {
          status: res.status,
          retriable: DeliveryError.isRetriableStatus(res.status),
        });
      }
    }
  }
}
