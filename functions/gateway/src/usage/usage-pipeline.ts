import { type EventPublisher, HttpPublisher } from "@maas/events";
import { createKafka, KafkaPublisher, PlatformaticPublisher } from "@maas/events/kafka";
import type { Logger } from "@maas/runtime";
import type { Registry } from "prom-client";
import type { GatewayEnv } from "../env.js";
import { mappedSocketFactory, parseBrokerAddressMap } from "./broker-address-map.js";
import { DiskSpool } from "./disk-spool.js";
import { UsageEmitter } from "./usage-emitter.js";

/** The env the usage pipeline reads (a plain object: it also travels to the usage worker). */
export type UsageEnv = Pick<
  GatewayEnv,
  | "KAFKA_BROKERS"
  | "KAFKA_BROKER_ADDRESS_MAP"
  | "USAGE_TOPIC"
  | "USAGE_SPOOL_DIR"
  | "USAGE_SPOOL_MAX_BYTES"
  | "USAGE_LINGER_MS"
  | "K_SINK"
>;

export interface UsagePipeline {
  usage: UsageEmitter;
  spool: DiskSpool | undefined;
  /** Flushes the emitter (what Kafka does not take goes to the spool), then closes the publisher. */
  close(): Promise<void>;
}

/**
 * Usage events' way out: Kafka (with the disk spool behind it), else K_SINK, else discarded
 * (embedded mode), behind one UsageEmitter. Built in the usage worker (USAGE_WORKER, the default) or
 * in the gateway's own thread.
 */
export function buildUsagePipeline(
  env: UsageEnv,
  deps: { logger: Logger; registry: Registry },
): UsagePipeline {
  const { logger, registry } = deps;
  let publisher: EventPublisher;
  let spool: DiskSpool | undefined;
  if (env.KAFKA_BROKERS !== undefined) {
    const addressMap = parseBrokerAddressMap(env.KAFKA_BROKER_ADDRESS_MAP);
    const topic = env.USAGE_TOPIC !== undefined ? { topic: env.USAGE_TOPIC } : {};
    // Few producer retries: the disk spool is the long-term retry, so a Kafka outage moves events to
    // disk within seconds instead of piling them up in memory.
    if (addressMap.size === 0) {
      // @platformatic/kafka: a third of kafkajs's CPU per event (bench/results/metering.json). Short
      // connect timeouts so an unreachable broker sends events to the spool as soon as with kafkajs.
      publisher = new PlatformaticPublisher({
        brokers: env.KAFKA_BROKERS,
        clientId: "gateway",
        // The emitter gathers the batch (USAGE_LINGER_MS); the producer sends each at once.
        lingerMs: 0,
        maxBatchSize: 1000,
        retries: 2,
        config: { connectTimeout: 1000 },
        ...topic,
      });
    } else {
      // An address map needs kafkajs's socket factory (the other client always dials the advertised
      // address): port-forwards and the tests' interruptible proxy.
      const kafka = createKafka({
        brokers: env.KAFKA_BROKERS,
        clientId: "gateway",
        config: { socketFactory: mappedSocketFactory(addressMap) },
      });
      publisher = new KafkaPublisher({ kafka, lingerMs: 0, maxBatchSize: 1000, retries: 2, ...topic });
    }
    spool = new DiskSpool({ dir: env.USAGE_SPOOL_DIR, maxBytes: env.USAGE_SPOOL_MAX_BYTES });
  } else if (env.K_SINK !== undefined) {
    publisher = new HttpPublisher(env.K_SINK);
  } else {
    logger.warn("neither KAFKA_BROKERS nor K_SINK set: usage events are discarded (embedded mode)");
    publisher = { publish: async () => undefined };
  }
  const usage = new UsageEmitter({ publisher, spool, registry, logger, lingerMs: env.USAGE_LINGER_MS });
  return {
    usage,
    spool,
    async close() {
      await usage.close();
      await publisher.close?.();
    },
  };
}
