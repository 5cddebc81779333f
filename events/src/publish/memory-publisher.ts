import type { MaasEvent } from "../event/maas-event.js";
import type { EventPublisher } from "./publisher.js";

/**
 * Keeps published events in an array; the embedded/no-op publisher for tests and local runs.
 * `failWith` makes the next publishes reject, to exercise retry paths.
 *
 * @example
 * const pub = new MemoryPublisher();
 * await pub.publish([ev]);
 * pub.published.length; // 1
 */
export class MemoryPublisher implements EventPublisher {
  readonly published: MaasEvent[] = [];
  failWith: Error | undefined;

  async publish(events: readonly MaasEvent[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.published.push(...events);
  }
}
