import { authEnvSchema } from "@maas/auth";
import { flag, optionalUrl } from "@maas/config";
import { secretsEnvSchema } from "@maas/db";
import { baseEnvSchema } from "@maas/runtime";
import { storageEnvSchema } from "@maas/storage";
import { z } from "zod";

/**
 * The control function's environment, parsed once in main.ts. DATABASE_URL unset = embedded PGlite
 * (in `PGLITE_DIR`, or in memory); S3_ENDPOINT unset = the filesystem object store (embedded mode,
 * where part uploads go through this API).
 */
export const controlEnvSchema = baseEnvSchema
  .extend(storageEnvSchema.shape)
  .extend(secretsEnvSchema.shape)
  .extend({
    DATABASE_URL: optionalUrl(),
    PGLITE_DIR: z.string().min(1).optional(),
    /** Run migrations at start (embedded and local setups; clusters run them as a job). */
    MIGRATE: flag(false),
    /** How clients reach this API; default `http://127.0.0.1:<PORT>`. */
    PUBLIC_URL: optionalUrl(),
    UPLOAD_TTL_S: z.coerce
      .number()
      .int()
      .min(60)
      .default(24 * 3600),
    UPLOAD_PRESIGN_S: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(3600),
    UPLOAD_MIN_PART_MIB: z.coerce.number().int().min(5).max(5120).default(8),
    /** How often the cleanup job runs; 0 = never in this process. */
    UPLOAD_CLEANUP_INTERVAL_S: z.coerce.number().int().min(0).default(300),
    /** Relay the outbox to the publisher from this process (local and embedded setups). */
    OUTBOX_RELAY: flag(false),
  });

export const controlAuthEnvSchema = authEnvSchema;

export type ControlEnvConfig = z.output<typeof controlEnvSchema>;
