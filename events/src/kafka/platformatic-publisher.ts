import {
  type CompressionAlgorithmValue,
  type MessageToProduce,
  Producer,
  type ProducerOptions,
  stringSerializer,
} from "@platformatic/kafka";
import { encodeKafka, type KafkaMode } from "../codec/kafka.js";
import type { MaasEvent } from "../event/maas-event.js";
import type { EventPublisher } from "../publish/publisher.js";
import { parseBrokers } from "./create-kafka.js";
import { javaCompatiblePartitioner } from "./java-partitioner.js";
import { LingerBatcher } from "./linger-batcher.js";
import { topicOf } from "./topic-of.js";

type Record_ = MessageToProduce<string, Buffer, string, string>;

export interface PlatformaticPublisherOptions {
  /** Broker list; a comma-separated string (as in KAFKA_BROKERS) or an array. */
  brokers: string | readonly string[];
  clientId: string;
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
  /** Record-batch compression (default none). */
  compression?: CompressionAlgorithmValue;
  /** Producer-level retries before a publish fails (default 5). */
  retries?: number;
  /** Anything else @platformatic/kafka's Producer takes (tls, sasl, connectTimeout, timeout). */
  config?: Omit<
    ProducerOptions<string, Buffer, string, string>,
    "clientId" | "bootstrapBrokers" | "serializers" | "partitioner" | "idempotent" | "acks" | "retries"
  >;
}

/**
 * kafkajs's default backoff (300 ms doubling, ±20 % jitter, at most 30 s) instead of the library's
 * flat 1 s, so a publish with few retries fails (or recovers) about as fast as with KafkaPublisher.
 */
function retryDelay(_client: unknown, _operation: string, attempt: number): number {
  const base = Math.min(300 * 2 ** (attempt - 1), 30_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * The library reads `retries` ≤ 1 on an idempotent producer as "retry forever", and `false` as 0.
 * Unbounded on purpose is not what we want (see KafkaPublisher: it would hold the outbox relay's
 * transaction open while Kafka is down), so 0 becomes `false` and 1, which it cannot express, 2.
 */
function boundedRetries(retries: number): number | false {
  if (retries <= 0) return false;
  return Math.max(2, retries);
}

/**
 * KafkaPublisher's contract on @platformatic/kafka instead of kafkajs, for the hot paths (gateway
 * usage events, benchmarks): kafkajs's record-batch encoding costs 12-24 µs per record, which made the
 * producer the largest CPU cost of the metering pipeline. Same semantics: an idempotent producer (acks
 * from all in-sync replicas; the library then keeps one request in flight per broker), publishes
 * buffered for `lingerMs` or `maxBatchSize` events and sent together, each `publish` resolving once its
 * own events are acknowledged and rejecting otherwise, keys placed on the partitions kafkajs and Java
 * would choose, topics auto-created where the broker allows it (kafkajs's default).
 *
 * @example
 * const publisher = new PlatformaticPublisher({ brokers: env.KAFKA_BROKERS, clientId: "gateway" });
 * await publisher.publish([createEvent(events.inferenceCompleted, { source, data })]);
 * await publisher.close();
 */
export class PlatformaticPublisher implements EventPublisher {
  readonly #producer: Producer<string, Buffer, string, string>;
  readonly #batcher: LingerBatcher<Record_>;
  readonly #options: PlatformaticPublisherOptions;
  #connecting: Promise<void> | undefined;
  #closed = false;

  constructor(options: PlatformaticPublisherOptions) {
    const brokers = parseBrokers(options.brokers);
    if (brokers.length === 0) throw new Error("PlatformaticPublisher: no brokers given");
    this.#options = options;
    this.#producer = new Producer<string, Buffer, string, string>({
      autocreateTopics: true,
      retryDelay,
      ...options.config,
      clientId: options.clientId,
      bootstrapBrokers: brokers,
      idempotent: true,
      retries: boundedRetries(options.retries ?? 5),
      partitioner: javaCompatiblePartitioner(),
      // encodeKafka gives string keys and headers and a Buffer value; the value goes through as is.
      serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
    });
    this.#batcher = new LingerBatcher<Record_>({
      maxBatchSize: options.maxBatchSize ?? 500,
      lingerMs: options.lingerMs ?? 5,
      send: (batch) => this.#send(batch),
    });
  }

  /** Connects eagerly and gets a producer id (optional: the first publish does it). */
  connect(): Promise<void> {
    if (!this.#connecting) {
      this.#connecting = this.#producer.initIdempotentProducer({}).then(
        () => undefined,
        (err: unknown) => {
          this.#connecting = undefined;
          throw err;
        },
      );
    }
    return this.#connecting;
  }

  topicOf(event: MaasEvent): string {
    return topicOf(event, this.#options);
  }

  publish(events: readonly MaasEvent[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("PlatformaticPublisher is closed"));
    if (events.length === 0) return Promise.resolve();
    const records: Record_[] = new Array(events.length);
    try {
      for (let i = 0; i < events.length; i++) {
        const event = events[i] as MaasEvent;
        const { key, value, headers, timestamp } = encodeKafka(event, this.#options.mode);
        const record: Record_ = { topic: this.topicOf(event), value, headers };
        if (key !== null) record.key = key;
        if (timestamp !== undefined) record.timestamp = BigInt(timestamp);
        records[i] = record;
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#batcher.add(records);
  }

  /** Sends everything buffered now and waits for all sends in flight. */
  flush(): Promise<void> {
    return this.#batcher.flush();
  }

  async #send(messages: Record_[]): Promise<void> {
    // The producer connects and gets its producer id on the first send; connect() only does it early.
    await this.#producer.send({ messages, compression: this.#options.compression ?? "none" });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    await this.#connecting?.catch(() => undefined);
    await this.#producer.close();
  }
}
