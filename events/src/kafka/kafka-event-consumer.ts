import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { MaasEvent } from "../event/maas-event.js";
import { type EventsLogger, stderrLogger } from "../logger.js";
import { decodeKafkaFast } from "./fast-decode.js";

export interface RecordMeta {
  topic: string;
  partition: number;
  offset: string;
}

/** Kept as an alias: the consumer logs through the package's one logger interface. */
export type ConsumerLogger = EventsLogger;

export interface KafkaEventConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  /** Where a group without committed offsets starts; default false (only new records). */
  fromBeginning?: boolean;
  /** Throwing means "not done": the record is redelivered after a backoff and nothing after it is committed. */
  handler: (event: MaasEvent, meta: RecordMeta) => Promise<void>;
  /**
   * A record that is not a valid catalog CloudEvent. Default: log and skip, so a poison record cannot
   * block its partition (the runner passes a handler that dead-letters). Throwing here is treated like
   * a handler failure.
   */
  onInvalid?: (record: KafkaMessage, err: unknown, meta: RecordMeta) => Promise<void>;
  /** Redelivery backoff after a handler failure, doubling per consecutive failure (default 200 ms → 30 s). */
  retryBackoff?: { initialMs?: number; maxMs?: number };
  /** Broker-side liveness: a consumer silent this long loses its partitions (default 10 s, broker min 6 s). */
  sessionTimeoutMs?: number;
  /** Commit resolved offsets at most this often while a batch is processed (default 1 s); always at batch end. */
  commitIntervalMs?: number;
  /**
   * Longest fetch long-poll (default 1 s). It also bounds how soon a paused partition is fetched again
   * after a handler failure; kafkajs' 5 s default made redelivery take seconds per attempt.
   */
  maxWaitTimeMs?: number;
  logger?: ConsumerLogger;
}

/**
 * Consumes CloudEvents from Kafka with at-least-once semantics: an offset is resolved and committed only
 * after the handler succeeded for that record. A failing handler stops its partition at that record:
 * the consumer seeks back to it, pauses the partition for a backoff and resumes, so the record is
 * redelivered and no later record on the partition is committed past it. Other partitions go on.
 *
 * @example
 * const consumer = new KafkaEventConsumer({
 *   kafka, groupId: "metering", topics: ["maas.usage"],
 *   handler: async (event) => { await rollup(event); },
 * });
 * await consumer.start();
 * // … on SIGTERM
 * await consumer.stop();
 */
export class KafkaEventConsumer {
  readonly #options: KafkaEventConsumerOptions;
  readonly #consumer: Consumer;
  readonly #logger: ConsumerLogger;
  readonly #failures = new Map<string, number>();
  readonly #resumeTimers = new Set<NodeJS.Timeout>();
  #started = false;

  constructor(options: KafkaEventConsumerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? stderrLogger;
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 10_000) / 3)),
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 1_000,
    });
  }

  /** The underlying kafkajs consumer (instrumentation events, `describeGroup`). */
  get consumer(): Consumer {
    return this.#consumer;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#consumer.connect();
    await this.#consumer.subscribe({
      topics: [...this.#options.topics],
      fromBeginning: this.#options.fromBeginning ?? false,
    });
    await this.#consumer.run({
      autoCommit: true,
      autoCommitInterval: this.#options.commitIntervalMs ?? 1_000,
      // We resolve each offset ourselves, after its handler succeeded.
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  /** Stops fetching, lets the record in hand finish, commits what succeeded, leaves the group. */
  async stop(): Promise<void> {
    for (const t of this.#resumeTimers) clearTimeout(t);
    this.#resumeTimers.clear();
    if (!this.#started) return;
    this.#started = false;
    await this.#consumer.disconnect();
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale, pause } = payload;
    const { topic, partition } = batch;
    const partKey = `${topic}:${partition}`;
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      const meta: RecordMeta = { topic, partition, offset: message.offset };
      try {
        await this.#process(message, meta);
      } catch (err) {
        const failures = (this.#failures.get(partKey) ?? 0) + 1;
        this.#failures.set(partKey, failures);
        const delay = this.#backoff(failures);
        this.#logger.warn(
          { topic, partition, offset: message.offset, failures, retryInMs: delay, err: String(err) },
          "event handler failed; record will be redelivered",
        );
        // Back to the failed record, then hold the partition: nothing after it is processed or committed.
        this.#consumer.seek({ topic, partition, offset: message.offset });
        const resume = pause();
        const timer = setTimeout(() => {
          this.#resumeTimers.delete(timer);
          resume();
        }, delay);
        this.#resumeTimers.add(timer);
        return;
      }
      this.#failures.delete(partKey);
      resolveOffset(message.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  async #process(message: KafkaMessage, meta: RecordMeta): Promise<void> {
    let event: MaasEvent;
    try {
      event = decodeKafkaFast(message);
    } catch (err) {
      if (this.#options.onInvalid) {
        await this.#options.onInvalid(message, err, meta);
      } else {
        this.#logger.error({ ...meta, err: String(err) }, "invalid CloudEvent record skipped");
      }
      return;
    }
    await this.#options.handler(event, meta);
  }

  #backoff(failures: number): number {
    const initial = this.#options.retryBackoff?.initialMs ?? 200;
    const max = this.#options.retryBackoff?.maxMs ?? 30_000;
    return Math.min(max, initial * 2 ** Math.min(failures - 1, 20));
  }
}
