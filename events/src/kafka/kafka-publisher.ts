import { CompressionTypes, type Kafka, type Message, Partitioners, type Producer } from "kafkajs";
import { encodeKafka, type KafkaMode } from "../codec/kafka.js";
import type { MaasEvent } from "../event/maas-event.js";
import type { EventPublisher } from "../publish/publisher.js";
import { LingerBatcher } from "./linger-batcher.js";
import { topicOf } from "./topic-of.js";

export interface KafkaPublisherOptions {
  kafka: Kafka;
  /** Send when this many events are buffered (default 500). */
  maxBatchSize?: number;
  /** Or when the oldest buffered event has waited this long (default 5 ms). 0 sends on the next tick. */
  lingerMs?: number;
  /** Binary (default) or structured records. */
  mode?: KafkaMode;
  /** Sends every event to this topic instead of the catalog's (tests, dead-letter paths). */
  topic?: string;
  /** Chooses a topic per event; wins over `topic` and the catalog. */
  topicFor?: (event: MaasEvent) => string;
  compression?: CompressionTypes;
  /** Producer-level retries before a publish fails (default 5). */
  retries?: number;
}

interface Pending {
  topic: string;
  message: Message;
}

/**
 * Publishes events to Kafka through an idempotent producer (acks from all in-sync replicas, at most 5
 * requests in flight, the limit under which the broker keeps idempotent ordering). Publishes are
 * buffered for `lingerMs` or `maxBatchSize` events, then sent as one `sendBatch` with one entry per
 * topic; each `publish` resolves once its own events are acknowledged.
 *
 * @example
 * const publisher = new KafkaPublisher({ kafka, lingerMs: 5 });
 * await publisher.publish([createEvent(events.inferenceCompleted, { source, data })]);
 * await publisher.close();
 */
export class KafkaPublisher implements EventPublisher {
  readonly #producer: Producer;
  readonly #batcher: LingerBatcher<Pending>;
  readonly #options: KafkaPublisherOptions;
  #connecting: Promise<void> | undefined;
  #closed = false;

  constructor(options: KafkaPublisherOptions) {
    this.#options = options;
    this.#producer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      // Java-compatible murmur2 on the key: a tenant maps to the same partition whichever client produced.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded on purpose (kafkajs warns): an idempotent producer's default is to retry forever, which
      // would hold the outbox relay's transaction open while Kafka is down. Retries within these keep
      // idempotence; past them the publish fails and the caller (relay, runner) retries, and consumers
      // dedupe by event id.
      retry: { retries: options.retries ?? 5 },
    });
    this.#batcher = new LingerBatcher<Pending>({
      maxBatchSize: options.maxBatchSize ?? 500,
      lingerMs: options.lingerMs ?? 5,
      send: (batch) => this.#send(batch),
    });
  }

  /** Connects eagerly (optional: the first publish connects). */
  connect(): Promise<void> {
    if (!this.#connecting) {
      this.#connecting = this.#producer.connect().catch((err: unknown) => {
        this.#connecting = undefined;
        throw err;
      });
    }
    return this.#connecting;
  }

  topicOf(event: MaasEvent): string {
    return topicOf(event, this.#options);
  }

  publish(events: readonly MaasEvent[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("KafkaPublisher is closed"));
    let pending: Pending[];
    try {
      pending = events.map((event) => {
        const { key, value, headers, timestamp } = encodeKafka(event, this.#options.mode);
        const message: Message = { key, value, headers };
        if (timestamp !== undefined) message.timestamp = timestamp;
        return { topic: this.topicOf(event), message };
      });
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#batcher.add(pending);
  }

  /** Sends everything buffered now and waits for all sends in flight. */
  flush(): Promise<void> {
    return this.#batcher.flush();
  }

  async #send(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      list.push(p.message);
      byTopic.set(p.topic, list);
    }
    await this.connect();
    await this.#producer.sendBatch({
      acks: -1,
      compression: this.#options.compression ?? CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    if (this.#connecting) {
      await this.#connecting.catch(() => undefined);
      await this.#producer.disconnect();
    }
  }
}
