import { Kafka, type KafkaConfig, logLevel } from "kafkajs";

export interface CreateKafkaOptions {
  /** Broker list; a comma-separated string (as in KAFKA_BROKERS) or an array. */
  brokers: string | readonly string[];
  clientId: string;
  /** kafkajs log level; defaults to WARN so rebalances don't flood the logs. */
  logLevel?: logLevel;
  /** Anything else kafkajs takes (ssl, sasl, retry). */
  config?: Omit<KafkaConfig, "brokers" | "clientId">;
}

/** Splits `KAFKA_BROKERS`-style lists: `"a:9092, b:9092"` → `["a:9092", "b:9092"]`. */
export function parseBrokers(brokers: string | readonly string[]): string[] {
  const list = typeof brokers === "string" ? brokers.split(",") : [...brokers];
  return list.map((b) => b.trim()).filter((b) => b.length > 0);
}

/**
 * Builds the kafkajs client shared by publishers and consumers of one process.
 *
 * @example
 * const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: "metering" });
 */
export function createKafka(options: CreateKafkaOptions): Kafka {
  const brokers = parseBrokers(options.brokers);
  if (brokers.length === 0) throw new Error("createKafka: no brokers given");
  return new Kafka({
    logLevel: options.logLevel ?? logLevel.WARN,
    ...options.config,
    brokers,
    clientId: options.clientId,
  });
}
