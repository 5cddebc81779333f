import type { MaasEvent } from "@maas/events";
import {
  type ConsumerLogger,
  createTopicsAndWait,
  KafkaEventConsumer,
  KafkaPublisher,
} from "@maas/events/kafka";
import type { Kafka } from "kafkajs";
import type { EventLog, LogHandler, LogSubscription, SubscribeOptions } from "./event-log.js";

export interface KafkaEventLogOptions {
  kafka: Kafka;
  /**
   * Consumer session timeout. A Dispatcher's handler includes the retries of one delivery, and kafkajs
   * heartbeats between records, so this must exceed the longest retry schedule (default 60 s).
   */
  sessionTimeoutMs?: number;
  logger?: ConsumerLogger;
}

/**
 * The EventLog over real Kafka: appends through the platform's idempotent KafkaPublisher (binary-mode
 * records keyed by `partitionkey`), consumes through KafkaEventConsumer (commit after the handler
 * resolved). Outside producers writing CloudEvents to the same topics are read like our own.
 *
 * @example
 * const log = new KafkaEventLog({ kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: "runner" }) });
 * await log.ensureTopics(["maas.events", "maas.dlq"]);
 */
export class KafkaEventLog implements EventLog {
  readonly #opts: KafkaEventLogOptions;
  readonly #publishers = new Map<string, KafkaPublisher>();
  readonly #consumers = new Set<KafkaEventConsumer>();

  constructor(opts: KafkaEventLogOptions) {
    this.#opts = opts;
  }

  /** Creates missing topics (existing ones are left alone), so consumers never race auto-creation. */
  async ensureTopics(topics: readonly string[], numPartitions = 3): Promise<void> {
    const admin = this.#opts.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = [...new Set(topics)].filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await createTopicsAndWait(
          admin,
          missing.map((topic) => ({ topic, numPartitions, replicationFactor: -1 })),
        );
      }
    } finally {
      await admin.disconnect();
    }
  }

  async append(topic: string, events: readonly MaasEvent[]): Promise<void> {
    let publisher = this.#publishers.get(topic);
    if (!publisher) {
      publisher = new KafkaPublisher({ kafka: this.#opts.kafka, topic, lingerMs: 2 });
      this.#publishers.set(topic, publisher);
    }
    await publisher.publish(events);
  }

  async subscribe(
    topic: string,
    groupId: string,
    handler: LogHandler,
    opts: SubscribeOptions = {},
  ): Promise<LogSubscription> {
    const consumer = new KafkaEventConsumer({
      kafka: this.#opts.kafka,
      groupId,
      topics: [topic],
      fromBeginning: opts.fromBeginning ?? false,
      handler,
      sessionTimeoutMs: this.#opts.sessionTimeoutMs ?? 60_000,
      ...(this.#opts.logger ? { logger: this.#opts.logger } : {}),
      ...(opts.onInvalid ? { onInvalid: async (_record, err, meta) => opts.onInvalid?.(err, meta) } : {}),
    });
    await consumer.start();
    this.#consumers.add(consumer);
    return {
      stop: async () => {
        this.#consumers.delete(consumer);
        await consumer.stop();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.stop()));
    this.#consumers.clear();
    await Promise.all([...this.#publishers.values()].map((p) => p.close()));
    this.#publishers.clear();
  }
}
