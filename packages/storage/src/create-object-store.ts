import path from "node:path";
import { optionalUrl } from "@maas/config";
import { z } from "zod";
import { FsObjectStore } from "./fs-object-store.js";
import type { ObjectStore } from "./object-store.js";
import { S3ObjectStore } from "./s3-object-store.js";

const optionalString = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? undefined : v));

/**
 * The storage part of a function's environment; merge it into the function's own schema
 * (`baseEnvSchema.extend(storageEnvSchema.shape)`). `S3_ENDPOINT` set → S3, else a folder.
 */
export const storageEnvSchema = z.object({
  S3_ENDPOINT: optionalUrl(),
  /** Host clients use for presigned URLs when it differs from S3_ENDPOINT (in-cluster vs public). */
  S3_PUBLIC_ENDPOINT: optionalUrl(),
  S3_REGION: z.string().default("us-east-1"),
  S3_BUCKET: z.string().min(3).default("maas-models"),
  S3_ACCESS_KEY_ID: optionalString(),
  S3_SECRET_ACCESS_KEY: optionalString(),
  // A boolean too, so an env already parsed with this schema can be passed again.
  S3_FORCE_PATH_STYLE: z
    .union([z.boolean(), z.enum(["true", "false", "1", "0", ""])])
    .optional()
    .transform((v) => (v === undefined || v === "" ? undefined : v === true || v === "true" || v === "1")),
  /** Embedded mode's folder; the local runner sets it to `.local/objects`. */
  OBJECT_DIR: z.string().default(".local/objects"),
});
export type StorageEnv = z.input<typeof storageEnvSchema>;

/**
 * Builds the object store an environment asks for: S3/MinIO when `S3_ENDPOINT` is set, else the
 * filesystem store at `OBJECT_DIR`. Credentials absent → the SDK's default chain (IRSA, instance role).
 * Takes `process.env` or a function's already-parsed env (other keys are ignored). Throws a zod
 * error on malformed storage settings; call it at start, as with every env.
 *
 * @example
 * const store = createObjectStore(process.env);
 * const store = createObjectStore({ S3_ENDPOINT: "http://127.0.0.1:59000", S3_ACCESS_KEY_ID: "maasadmin", S3_SECRET_ACCESS_KEY: "maasadmin-secret" });
 */
export function createObjectStore(env: StorageEnv | Readonly<Record<string, unknown>>): ObjectStore {
  const cfg = storageEnvSchema.parse(env);
  if (!cfg.S3_ENDPOINT) return new FsObjectStore({ root: path.resolve(cfg.OBJECT_DIR) });
  const credentials =
    cfg.S3_ACCESS_KEY_ID && cfg.S3_SECRET_ACCESS_KEY
      ? { accessKeyId: cfg.S3_ACCESS_KEY_ID, secretAccessKey: cfg.S3_SECRET_ACCESS_KEY }
      : undefined;
  return new S3ObjectStore({
    endpoint: cfg.S3_ENDPOINT,
    region: cfg.S3_REGION,
    bucket: cfg.S3_BUCKET,
    ...(credentials ? { credentials } : {}),
    ...(cfg.S3_PUBLIC_ENDPOINT ? { publicEndpoint: cfg.S3_PUBLIC_ENDPOINT } : {}),
    ...(cfg.S3_FORCE_PATH_STYLE === undefined ? {} : { forcePathStyle: cfg.S3_FORCE_PATH_STYLE }),
  });
}
