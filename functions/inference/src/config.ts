import { availableParallelism } from "node:os";
import { flag } from "@maas/config";
import { baseEnvSchema } from "@maas/runtime";
import { z } from "zod";

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);
const optionalString = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? undefined : v));
/** "8,16,32" → [8, 16, 32]; "" → []. */
const intList = () =>
  z
    .string()
    .default("")
    .transform((v, ctx) => {
      const items = v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .map(Number);
      if (items.some((n) => !Number.isInteger(n) || n <= 0)) {
        ctx.addIssue({ code: "custom", message: "expected a comma-separated list of positive integers" });
        return z.NEVER;
      }
      return [...new Set(items)].sort((a, b) => a - b);
    });

/** intraOpNumThreads default: the cores this process may use, capped (ORT oversubscribes a pod otherwise). */
export function defaultCpuLimit(): number {
  return Math.min(availableParallelism(), 8);
}

/**
 * The inference function's environment, parsed once in main.ts. Exactly one of MODEL_PATH (a local
 * file) or MODEL_URI (`file://…`, or `s3://bucket/key` read through `@maas/storage` with the S3_* env) names the model.
 */
export const inferenceEnvSchema = baseEnvSchema
  .extend({
    MODEL_PATH: optionalString(),
    MODEL_URI: optionalString(),
    /** Expected sha256 (hex) of the model file; checked while it streams into the cache. */
    MODEL_SHA256: optionalString().pipe(
      z
        .string()
        .regex(/^[0-9a-f]{64}$/i)
        .optional(),
    ),
    MODEL_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default("model"),
    MODEL_VERSION: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default("1"),
    CACHE_DIR: z.string().default(".cache/models"),
    DEVICE: z.enum(["cpu", "gpu"]).default("cpu"),
    /** Explicit provider order, e.g. "cuda,cpu"; default from DEVICE. */
    EXECUTION_PROVIDERS: optionalString(),
    /** Cores per session worker: ORT's intraOpNumThreads. */
    CPU_LIMIT: z.coerce.number().int().positive().max(256).optional(),
    WORKERS: positiveInt(1),
    BATCHING: flag(true),
    MAX_BATCH_SIZE: positiveInt(32),
    MAX_QUEUE_DELAY_MS: z.coerce.number().min(0).default(2),
    PREFERRED_BATCH_SIZES: intList(),
    MAX_QUEUE_SIZE: positiveInt(256),
    REQUEST_TIMEOUT_MS: positiveInt(10_000),
    MAX_REQUEST_BYTES: positiveInt(64 * 1024 * 1024),
    PRIORITY_LEVELS: positiveInt(1),
    /** Skip warm-up (tests); the revision is then ready as soon as the session exists. */
    WARMUP: flag(true),
    /** Size for dynamic non-batch axes in warm-up inputs (e.g. an OCR line's width). */
    WARMUP_DYNAMIC_DIM: positiveInt(32),
  })
  .superRefine((env, ctx) => {
    if (!env.MODEL_PATH === !env.MODEL_URI) {
      ctx.addIssue({
        code: "custom",
        path: ["MODEL_PATH"],
        message: "set exactly one of MODEL_PATH or MODEL_URI",
      });
    }
    if (env.PREFERRED_BATCH_SIZES.some((n) => n > env.MAX_BATCH_SIZE)) {
      ctx.addIssue({
        code: "custom",
        path: ["PREFERRED_BATCH_SIZES"],
        message: "preferred batch sizes cannot exceed MAX_BATCH_SIZE",
      });
    }
  });

export type InferenceEnv = z.output<typeof inferenceEnvSchema>;

/** Provider order: EXECUTION_PROVIDERS, else cuda then cpu for DEVICE=gpu, else cpu. */
export function executionProviders(env: Pick<InferenceEnv, "DEVICE" | "EXECUTION_PROVIDERS">): string[] {
  if (env.EXECUTION_PROVIDERS) {
    return env.EXECUTION_PROVIDERS.split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
  }
  return env.DEVICE === "gpu" ? ["cuda", "cpu"] : ["cpu"];
}
