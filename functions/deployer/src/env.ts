import { optionalUrl } from "@maas/config";
import { baseEnvSchema } from "@maas/runtime";
import { z } from "zod";

/** The deployer's environment, parsed once in main.ts. */
export const deployerEnvSchema = baseEnvSchema.extend({
  DATABASE_URL: optionalUrl(),
  /** A plain-HTTP API server (the local runner's); unset = KUBECONFIG or in-cluster config. */
  KUBE_API_URL: optionalUrl(),
  INFERENCE_IMAGE: z.string().min(1).default("ghcr.io/maas/inference:latest"),
  MODEL_URI_BASE: z.string().min(1).default("s3://maas-models/"),
  READY_TIMEOUT_MS: z.coerce.number().int().positive().default(600_000),
  SCALE_TO_ZERO_RETENTION: z.string().default("1m"),
  /** CRD schemas for validation (the image bundles them); default ../shared/schemas/crds. */
  CRD_SCHEMA_DIR: z.string().optional(),
  /** Secret with the object store's settings, mounted into inference pods as env. */
  STORAGE_SECRET: z.string().optional(),
  /** Extra env for inference containers as JSON (the local runner passes its own). */
  INFERENCE_ENV: z
    .string()
    .default("{}")
    .transform((v) => z.record(z.string(), z.string()).parse(JSON.parse(v))),
});
export type DeployerEnv = z.output<typeof deployerEnvSchema>;
