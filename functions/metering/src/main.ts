import { loadEnvOrExit } from "@maas/config";
import { createDb, migrateToLatest } from "@maas/db";
import type { EventPublisher } from "@maas/events";
import { createKafka, KafkaPublisher } from "@maas/events/kafka";
import { CachedQuotaSource, PostgresQuotaSource, SpendLedger } from "@maas/quota";
import { depsFromEnv, runFunction } from "@maas/runtime";
import { Redis } from "ioredis";
import type { Producer } from "kafkajs";
import { Registry } from "prom-client";
import { createMetering } from "./app.js";
import { meteringEnvSchema } from "./env.js";
import { kafkaDeadLetter } from "./usage/dead-letter.js";
import { createMeteringMetrics } from "./usage/metering-metrics.js";
import { LedgerSpendSink, MemorySpendSink, type SpendSink } from "./usage/spend-sink.js";
import { UsageBatchConsumer } from "./usage/usage-batch-consumer.js";
import { UsageIngestor } from "./usage/usage-ingestor.js";
import { PostgresUsageStore } from "./usage/usage-store.js";

// Parsed once at start: a bad env exits here, so the revision never becomes ready.
const env = loadEnvOrExit(meteringEnvSchema);
const deps = depsFromEnv("metering", env);
if (env.METERING_MODE === "kafka" && !env.KAFKA_BROKERS) {
  console.error("METERING_MODE=kafka needs KAFKA_BROKERS");
  process.exit(1);
}

const database = createDb({
  ...(env.DATABASE_URL === undefined ? {} : { url: env.DATABASE_URL }),
  ...(env.PGLITE_DIR === undefined ? {} : { pglite: { dataDir: env.PGLITE_DIR } }),
});
if (env.MIGRATE || database.kind === "pglite") await migrateToLatest(database.db);

const kafka = env.KAFKA_BROKERS
  ? createKafka({ brokers: env.KAFKA_BROKERS, clientId: deps.name })
  : undefined;
// Threshold events: straight to Kafka when consuming Kafka, else the function's sink (K_SINK).
const eventsPublisher: EventPublisher | undefined =
  env.METERING_MODE === "kafka" && kafka ? new KafkaPublisher({ kafka, topic: env.EVENTS_TOPIC }) : undefined;

let redis: Redis | undefined;
let spend: SpendSink;
let publisherForLedger: EventPublisher | undefined = eventsPublisher;
if (env.REDIS_URL) {
  redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2 });
  spend = new LedgerSpendSink(
    new SpendLedger({
      redis,
      keyPrefix: env.REDIS_KEY_PREFIX,
      quotas: new CachedQuotaSource(new PostgresQuotaSource(database.db), { ttlMs: 30_000 }),
      // Resolved lazily below: the function's own publisher exists once the function does.
      publisher: { publish: (evs) => (publisherForLedger ?? fn.publisher).publish(evs) },
      source: "/functions/metering",
    }),
  );
} else {
  spend = new MemorySpendSink();
}

let consumer: UsageBatchConsumer | undefined;
let deadLetterProducer: Producer | undefined;
let reconcileTimer: NodeJS.Timeout | undefined;
// One registry for the function's own metrics and the runtime's (served on /metrics).
const registry = new Registry();
const ingestor = new UsageIngestor({
  store: new PostgresUsageStore(database.db),
  spend,
  metrics: createMeteringMetrics(registry),
});
const fn = createMetering({
  ...deps,
  registry,
  ...(eventsPublisher ? { publisher: eventsPublisher } : {}),
  ingestor,
  onShutdown: async () => {
    if (reconcileTimer) clearInterval(reconcileTimer);
    await consumer?.stop();
    await deadLetterProducer?.disconnect();
    redis?.disconnect();
    await database.close();
  },
});
publisherForLedger ??= fn.publisher;

await runFunction(fn, env, {
  warmUp: async () => {
    // At start: the counters may have missed increments of a crashed predecessor.
    const tenants = await ingestor.reconcileRecent();
    fn.logger.info({ tenants }, "spend counters reconciled from Postgres");
    if (env.METERING_RECONCILE_S > 0) {
      reconcileTimer = setInterval(() => {
        ingestor
          .reconcileRecent()
          .catch((err: unknown) => fn.logger.error({ err }, "spend reconcile failed"));
      }, env.METERING_RECONCILE_S * 1000);
      reconcileTimer.unref();
    }
    if (env.METERING_MODE === "kafka" && kafka) {
      deadLetterProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await deadLetterProducer.connect();
      consumer = new UsageBatchConsumer({
        kafka,
        groupId: env.METERING_GROUP,
        topic: env.METERING_TOPIC,
        fromBeginning: env.METERING_FROM_BEGINNING,
        partitionsConsumedConcurrently: env.METERING_CONCURRENCY,
        ingest: (evs) => ingestor.ingest(evs),
        deadLetter: kafkaDeadLetter(deadLetterProducer, env.METERING_DLQ_TOPIC),
        logger: fn.logger,
        // Exit non-zero: Kubernetes (or the local runner) restarts the container.
        onFatal: () => process.exit(70),
      });
      await consumer.start();
      fn.logger.info({ topic: env.METERING_TOPIC, group: env.METERING_GROUP }, "consuming usage in batches");
    }
  },
});
