import type { MaasEvent } from "@maas/events";
import { decodeKafkaFast } from "@maas/events/kafka";
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { DeadLetterSink, InvalidRecord } from "./dead-letter.js";
import type { IngestLogger, IngestResult } from "./usage-ingestor.js";

export interface UsageBatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  /** Stores one batch exactly once; throwing = nothing committed, the batch comes again. */
  ingest: (events: readonly MaasEvent[]) => Promise<IngestResult>;
  fromBeginning?: boolean;
  /** Partitions processed at the same time (each its own transaction); default 4. */
  partitionsConsumedConcurrently?: number;
  /** Largest sub-batch handed to `ingest` (default 5,000 events). */
  maxBatchEvents?: number;
  /** Fetch size per partition (default 4 MiB ≈ 8,000 usage events). */
  maxBytesPerPartition?: number;
  retryBackoff?: { initialMs?: number; maxMs?: number };
  /**
   * Where records that are not valid catalog CloudEvents go (kafkaDeadLetter: `maas.dlq`), before
   * their batch is committed. Absent: they are logged and skipped (tests, embedded mode).
   */
  deadLetter?: DeadLetterSink;
  logger?: IngestLogger;
  /** The consumer stopped for good (main.ts exits so the process is restarted). */
  onFatal?: (err: unknown) => void;
  /** Called after each committed batch (metrics, benchmarks). */
  onBatch?: (result: IngestResult, meta: { partition: number; lastOffset: string }) => void;
}

const quiet: IngestLogger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * Consumes the usage topic in whole batches: decode every record, one `ingest` (one transaction)
 * per batch, and commit the batch's offset only after that transaction committed. A crash anywhere
 * before the commit redelivers the batch, whose rows are then duplicates (exactly-once effect).
 * A failed batch is sought back and its partition paused for a backoff; other partitions go on.
 * Records that are not valid catalog CloudEvents can never succeed: they go to the dead-letter sink
 * (and the log) in the same step as the batch's insert, so a failure of either redelivers the batch.
 *
 * @example
 * const consumer = new UsageBatchConsumer({ kafka, groupId: "maas-metering", topic: "maas.usage",
 *   ingest: (evs) => ingestor.ingest(evs) });
 * await consumer.start();
 */
export class UsageBatchConsumer {
  readonly #options: UsageBatchConsumerOptions;
  readonly #consumer: Consumer;
  readonly #logger: IngestLogger;
  readonly #failures = new Map<number, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #started = false;

  constructor(options: UsageBatchConsumerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? quiet;
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 250,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      // A broker restart must not end the consumer: keep retrying the connection.
      retry: { retries: 100, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
  }

  get consumer(): Consumer {
    return this.#consumer;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    // kafkajs gives up on some group errors (e.g. "coordinator is not aware of this member" after a
    // broker restart) without restarting; leave the process then, so the platform restarts it and
    // the new instance resumes from the committed offsets (the stored rows make the rest duplicates).
    this.#consumer.on(this.#consumer.events.CRASH, (e) => {
      if (e.payload.restart) return;
      this.#logger.error({ err: String(e.payload.error) }, "usage consumer crashed for good");
      this.#options.onFatal?.(e.payload.error);
    });
    await this.#consumer.connect();
    await this.#consumer.subscribe({
      topics: [this.#options.topic],
      fromBeginning: this.#options.fromBeginning ?? false,
    });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#options.partitionsConsumedConcurrently ?? 4,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (!this.#started) return;
    this.#started = false;
    await this.#consumer.disconnect();
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, pause } = payload;
    const { topic, partition } = batch;
    const max = this.#options.maxBatchEvents ?? 5_000;
    const messages = batch.messages;
    for (let start = 0; start < messages.length; start += max) {
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(start, start + max);
      const first = chunk[0];
      const last = chunk.at(-1);
      if (!first || !last) return;
      const decoded: MaasEvent[] = [];
      const invalid: InvalidRecord[] = [];
      for (const message of chunk) {
        try {
          decoded.push(decodeKafkaFast(message));
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          invalid.push({
            topic,
            partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: message.headers,
            reason,
          });
          this.#logger.error(
            {
              topic,
              partition,
              offset: message.offset,
              err: reason,
              deadLettered: this.#options.deadLetter !== undefined,
            },
            "invalid usage record",
          );
        }
      }
      let result: IngestResult;
      try {
        if (invalid.length > 0) await this.#options.deadLetter?.(invalid);
        result = await this.#options.ingest(decoded);
      } catch (err) {
        const failures = (this.#failures.get(partition) ?? 0) + 1;
        this.#failures.set(partition, failures);
        const delay = this.#backoff(failures);
        this.#logger.warn(
          { topic, partition, offset: first.offset, failures, retryInMs: delay, err: String(err) },
          "usage batch failed; it will be redelivered",
        );
        this.#consumer.seek({ topic, partition, offset: first.offset });
        const resume = pause();
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          resume();
        }, delay);
        this.#timers.add(timer);
        return;
      }
      this.#failures.delete(partition);
      resolveOffset(last.offset);
      // The committed offset is the NEXT record to read. Only now, after the database commit.
      await this.#consumer.commitOffsets([
        { topic, partition, offset: (BigInt(last.offset) + 1n).toString() },
      ]);
      this.#options.onBatch?.(result, { partition, lastOffset: last.offset });
      await heartbeat();
    }
  }

  #backoff(failures: number): number {
    const initial = this.#options.retryBackoff?.initialMs ?? 200;
    const maxMs = this.#options.retryBackoff?.maxMs ?? 10_000;
    return Math.min(maxMs, initial * 2 ** Math.min(failures - 1, 20));
  }
}
