import { CompressionTypes, type Kafka, type Message, Partitioners, type Producer } from "kafkajs";
import { getDefinition } from "../catalog/catalog.js";
import { encodeKafka, type KafkaMode } from "../codec/kafka.js";
import type { MaasEvent } from "../event/maas-event.js";
import type { EventPublisher } from "../publish/publisher.js";

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
  resolve: () => void;
  reject: (err: unknown) => void;
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
  readonly #maxBatchSize: number;
  readonly #lingerMs: number;
  readonly #options: KafkaPublisherOptions;
  #buffer: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #connecting: Promise<void> | undefined;
  #inflight = new Set<Promise<void>>();
  #closed = false;

  constructor(options: KafkaPublisherOptions) {
    this.#options = options;
    this.#maxBatchSize = options.maxBatchSize ?? 500;
    this.#lingerMs = options.lingerMs ?? 5;
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
    if (this.#options.topicFor) return this.#options.topicFor(event);
    if (this.#options.topic) return this.#options.topic;
    const def = getDefinition(event.type);
    if (!def) throw new Error(`no topic for event type ${event.type}: not in the catalog`);
    return def.topic;
  }

  publish(events: readonly MaasEvent[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("KafkaPublisher is closed"));
    if (events.length === 0) return Promise.resolve();
    let pending: Pending[];
    try {
      pending = events.map((event) => {
        const { key, value, headers, timestamp } = encodeKafka(event, this.#options.mode);
        const message: Message = { key, value, headers };
        if (timestamp !== undefined) message.timestamp = timestamp;
        return { topic: this.topicOf(event), message, resolve: () => {}, reject: () => {} };
      });
    } catch (err) {
      return Promise.reject(err);
    }
    const done = Promise.all(
      pending.map(
        (p) =>
          new Promise<void>((resolve, reject) => {
            p.resolve = resolve;
            p.reject = reject;
          }),
      ),
    ).then(() => undefined);
    this.#buffer.push(...pending);
    if (this.#buffer.length >= this.#maxBatchSize) void this.flush();
    else if (!this.#timer) this.#timer = setTimeout(() => void this.flush(), this.#lingerMs);
    return done;
  }

  /** Sends everything buffered now and waits for all sends in flight. */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#maxBatchSize);
      const send = this.#send(batch);
      this.#inflight.add(send);
      void send.finally(() => this.#inflight.delete(send));
    }
    await Promise.all([...this.#inflight]);
  }

  async #send(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      list.push(p.message);
      byTopic.set(p.topic, list);
    }
    try {
      await this.connect();
      await this.#producer.sendBatch({
        acks: -1,
        compression: this.#options.compression ?? CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
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
