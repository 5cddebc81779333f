import { optionalUrl, port } from "@maas/config";
import { z } from "zod";

/**
 * Environment every function reads (Knative and the local runner set these). Functions extend it:
 * `baseEnvSchema.extend({ DATABASE_URL: optionalUrl() })`, parsed once in main.ts.
 */
export const baseEnvSchema = z.object({
  /** Knative sets PORT for the user container; 8080 is its default. */
  PORT: port(8080),
  /** Unset: all interfaces, as a container needs; the local runner may pin 127.0.0.1. */
  HOST: z
    .string()
    .optional()
    .transform((v) => (v === "" ? undefined : v)),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Where emitted events go; injected by a SinkBinding (Knative) or the local runner. */
  K_SINK: optionalUrl(),
  /** Overrides the function's own name in logs and metrics (e.g. one image, several services). */
  FUNCTION_NAME: z.string().min(1).optional(),
  /** Set by Knative Serving; logged so a line can be traced to its revision. */
  K_SERVICE: z.string().optional(),
  K_REVISION: z.string().optional(),
  /** How long SIGTERM waits for in-flight requests before closing their connections. */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(20_000),
});

export type BaseEnv = z.output<typeof baseEnvSchema>;
