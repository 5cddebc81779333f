import { z } from "@hono/zod-openapi";
import type { Model, ModelVersion } from "@maas/db";
import { dnsLabel, iso, isoTime } from "./common.js";

export const ModelSchema = z
  .object({
    id: z.string().openapi({ example: "mdl_01jd8x3k5q0v8m2c7r9s4t6w1y" }),
    name: z.string(),
    description: z.string().nullable(),
    createdAt: isoTime(),
  })
  .openapi("Model");

export const CreateModelSchema = z
  .object({
    name: dnsLabel(63).openapi({ example: "resnet" }),
    description: z.string().max(2000).optional(),
  })
  .strict()
  .openapi("CreateModel");

const TensorSchema = z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number()) });

export const VersionSchema = z
  .object({
    id: z.string().openapi({ example: "mver_01jd8x3k5q0v8m2c7r9s4t6w1y" }),
    version: z.number().int(),
    status: z.enum(["uploading", "uploaded", "validating", "ready", "rejected"]),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    signature: z
      .object({ inputs: z.array(TensorSchema), outputs: z.array(TensorSchema) })
      .passthrough()
      .nullable()
      .openapi({ type: "object" }),
    variants: z.array(z.record(z.string(), z.unknown())),
    rejectionReason: z.string().nullable(),
    createdAt: isoTime(),
  })
  .openapi("ModelVersion");

export function modelView(model: Model): z.infer<typeof ModelSchema> {
  return { id: model.id, name: model.name, description: model.description, createdAt: iso(model.created_at) };
}

export function versionView(v: ModelVersion): z.infer<typeof VersionSchema> {
  return {
    id: v.id,
    version: v.version,
    status: v.status,
    sizeBytes: Number(v.size_bytes),
    sha256: v.sha256,
    signature: v.signature as z.infer<typeof VersionSchema>["signature"],
    variants: v.variants as Record<string, unknown>[],
    rejectionReason: v.rejection_reason,
    createdAt: iso(v.created_at),
  };
}
