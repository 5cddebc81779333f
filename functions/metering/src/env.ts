import { flag, optionalUrl } from "@maas/config";
import { baseEnvSchema } from "@maas/runtime";
import { z } from "zod";

/**
 * Metering's environment. DATABASE_URL unset = embedded PGlite; REDIS_URL unset = in-process spend
 * counters; METERING_MODE=kafka consumes KAFKA_BROKERS' usage topic directly in batches (the
 * ≥ 20,000 events/s path), `http` (default) takes one event per request from a KafkaSource.
 */
export const meteringEnvSchema = baseEnvSchema.extend({
  DATABASE_URL: optionalUrl(),
  PGLITE_DIR: z.string().min(1).optional(),
  MIGRATE: flag(false),
  REDIS_URL: optionalUrl(),
  REDIS_KEY_PREFIX: z.string().default("maas:quota:"),
  KAFKA_BROKERS: z.string().optional(),
  METERING_MODE: z.enum(["http", "kafka"]).default("http"),
  METERING_TOPIC: z.string().default("maas.usage"),
  /** Usage records that are not valid events are copied here (with the reason) before their commit. */
  METERING_DLQ_TOPIC: z.string().default("maas.dlq"),
  METERING_GROUP: z.string().default("maas-metering"),
  METERING_FROM_BEGINNING: flag(true),
  METERING_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Postgres → Redis spend reconcile period; 0 = only at start. */
  METERING_RECONCILE_S: z.coerce.number().int().min(0).default(60),
  /** Topic for the quota threshold events the ledger emits (Kafka mode). */
  EVENTS_TOPIC: z.string().default("maas.events"),
});

export type MeteringEnv = z.output<typeof meteringEnvSchema>;
