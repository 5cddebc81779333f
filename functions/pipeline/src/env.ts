import { flag, optionalUrl } from "@maas/config";
import { PARSE_LIMIT_BYTES } from "@maas/onnx";
import { baseEnvSchema } from "@maas/runtime";
import { storageEnvSchema } from "@maas/storage";
import { z } from "zod";

/** The pipeline's environment, parsed once in main.ts. */
export const pipelineEnvSchema = baseEnvSchema.extend({
  ...storageEnvSchema.shape,
  /** Unset: an embedded PGlite in PGLITE_DIR (or in memory), for a single-process setup. */
  DATABASE_URL: optionalUrl(),
  PGLITE_DIR: z.string().optional(),
  /**
   * Relay the outbox from this process. Off by default: one relay per database is enough (the control
   * function or a dedicated one); several are safe (rows are locked with SKIP LOCKED) but wasteful.
   */
  OUTBOX_RELAY: flag(false),
  /** With OUTBOX_RELAY: publish to Kafka; unset, to K_SINK (the Knative broker) over HTTP. */
  KAFKA_BROKERS: z.string().optional(),
  PIPELINE_MAX_MODEL_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .max(PARSE_LIMIT_BYTES)
    .default(PARSE_LIMIT_BYTES),
  PIPELINE_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  PIPELINE_TIMEOUT_MS: z.coerce.number().int().positive().default(600_000),
  /** A `validating` claim older than this is taken over; unset: PIPELINE_TIMEOUT_MS + 5 min. */
  PIPELINE_STALE_CLAIM_MS: z.coerce.number().int().positive().optional(),
  /** Validation starts per version before a lost one is rejected (PROCESSING_ABANDONED). */
  PIPELINE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** How often each instance requeues stale claims (their deliveries were dead-lettered); 0 = never. */
  PIPELINE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
});
export type PipelineEnv = z.output<typeof pipelineEnvSchema>;
