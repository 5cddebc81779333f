import type { MaasEvent } from "@maas/events";
import { type DeliverOptions, type DeliveryOutcome, deliverWithRetry } from "./deliver-with-retry.js";
import type { DeliveryPolicy } from "./delivery-spec.js";
import type { EventLog, LogRecordMeta, LogSubscription } from "./event-log.js";
import { matchesTrigger, type TriggerFilter } from "./trigger-filter.js";

export interface DispatcherOptions {
  /** For logs: e.g. `trigger/deployer-tenant-created` or `kafkasource/usage-to-metering`. */
  name: string;
  log: EventLog;
  topic: string;
  groupId: string;
  subscriberUrl: string;
  policy: DeliveryPolicy;
  deadLetterUrl?: string | undefined;
  /** Trigger filter; absent for sources (every record is delivered). */
  filter?: TriggerFilter | undefined;
  fromBeginning?: boolean;
  /** Where a subscriber's reply event goes (a Trigger's Broker). Throwing makes the record redeliver. */
  onReply?: (event: MaasEvent) => Promise<void>;
  /** Every delivery's outcome, for logs and tests. */
  onOutcome?: (event: MaasEvent, outcome: DeliveryOutcome, meta: LogRecordMeta) => void;
  onInvalid?: (error: unknown, meta: LogRecordMeta) => void;
  /** Injected clock/sleep/transport (tests). */
  deliver?: Pick<DeliverOptions, "sleep" | "now" | "send">;
}

export interface DispatcherStats {
  filtered: number;
  delivered: number;
  deadLettered: number;
  failed: number;
}

/**
 * What a Trigger or a KafkaSource is at run time: a consumer group on the log that filters each record,
 * delivers it with retries, dead-letters it when the subscriber keeps failing, and only then commits.
 * The same class runs over the embedded log and over Kafka, so both paths share one set of semantics.
 *
 * A record whose delivery *and* dead-lettering failed is committed anyway (Knative's Kafka dispatcher
 * does the same) so one poisoned record cannot stall its partition; the outcome reports it as `failed`.
 *
 * @example
 * const d = new Dispatcher({ name: "trigger/pipeline", log, topic: "maas.events", groupId: "trigger-pipeline",
 *   subscriberUrl: "http://127.0.0.1:8103/", policy, filter: { filter: { attributes: { type } } } });
 * await d.start();
 */
export class Dispatcher {
  readonly stats: DispatcherStats = { filtered: 0, delivered: 0, deadLettered: 0, failed: 0 };
  readonly #opts: DispatcherOptions;
  readonly #abort = new AbortController();
  #subscription: LogSubscription | undefined;

  constructor(opts: DispatcherOptions) {
    this.#opts = opts;
  }

  get name(): string {
    return this.#opts.name;
  }

  async start(): Promise<void> {
    const o = this.#opts;
    this.#subscription = await o.log.subscribe(
      o.topic,
      o.groupId,
      (event, meta) => this.#handle(event, meta),
      {
        fromBeginning: o.fromBeginning ?? true,
        onInvalid: o.onInvalid,
      },
    );
  }

  async #handle(event: MaasEvent, meta: LogRecordMeta): Promise<void> {
    const o = this.#opts;
    if (o.filter && !matchesTrigger(o.filter, event)) {
      this.stats.filtered += 1;
      return;
    }
    const outcome = await deliverWithRetry(event, o.subscriberUrl, o.policy, {
      ...o.deliver,
      deadLetter: o.deadLetterUrl,
      signal: this.#abort.signal,
    });
    // Stopping mid-retry: leave the record uncommitted so the next start delivers it again.
    if (outcome.result === "aborted") throw new Error(`${o.name}: stopped while delivering ${event.id}`);
    if (outcome.result === "delivered") this.stats.delivered += 1;
    else if (outcome.result === "dead-lettered") this.stats.deadLettered += 1;
    else this.stats.failed += 1;
    o.onOutcome?.(event, outcome, meta);
    if (outcome.result === "delivered" && outcome.reply && o.onReply) await o.onReply(outcome.reply);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#subscription?.stop();
    this.#subscription = undefined;
  }
}
