import type { MaasEvent } from "../event/maas-event.js";

/** Where producers hand events: Kafka, an HTTP sink (K_SINK), the outbox relay's target, or memory. */
export interface EventPublisher {
  /** Resolves once every event is durably accepted; rejects if any was not (the caller retries all). */
  publish(events: readonly MaasEvent[]): Promise<void>;
  close?(): Promise<void>;
}
