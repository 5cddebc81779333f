import { z } from "@hono/zod-openapi";
import type { Deployment } from "@maas/db";
import { dnsLabel, idParam, iso, isoTime, ModelRefSchema } from "./common.js";

const VariantSchema = z.enum(["fp32", "fp16", "int8"]);
const DeviceSchema = z.enum(["cpu", "gpu"]);

export const DeploymentSchema = z
  .object({
    id: z.string().openapi({ example: "dep_01jd8x3k5q0v8m2c7r9s4t6w1y" }),
    name: z.string(),
    modelId: z.string(),
    versionId: z.string(),
    variant: VariantSchema,
    device: DeviceSchema,
    status: z.enum(["pending", "ready", "failed", "deleting", "deleted"]),
    minScale: z.number().int(),
    maxScale: z.number().int(),
    targetConcurrency: z.number().int(),
    maxBatchSize: z.number().int(),
    url: z.string().nullable(),
    failureReason: z.string().nullable(),
    createdAt: isoTime(),
    updatedAt: isoTime(),
  })
  .openapi("Deployment");

export const CreateDeploymentSchema = z
  .object({
    name: dnsLabel(40).openapi({ example: "resnet-prod", description: "DNS label, at most 40 characters" }),
    model: ModelRefSchema.openapi({ description: "Model id or name" }),
    version: z.number().int().min(1),
    variant: VariantSchema.default("fp32"),
    device: DeviceSchema.default("cpu"),
    minScale: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(0)
      .openapi({ description: "0 scales to zero when idle" }),
    maxScale: z.number().int().min(1).max(100).default(1),
    maxBatchSize: z.number().int().min(1).max(1024).default(1),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.maxScale < d.minScale) {
      ctx.addIssue({ code: "custom", path: ["maxScale"], message: "must be at least minScale" });
    }
  })
  .openapi("CreateDeployment");

export const DeploymentIdParams = z.object({
  deploymentId: idParam("dep", "dep_01jd8x3k5q0v8m2c7r9s4t6w1y").openapi({
    param: { name: "deploymentId", in: "path" },
  }),
});

export function deploymentView(d: Deployment): z.infer<typeof DeploymentSchema> {
  return {
    id: d.id,
    name: d.name,
    modelId: d.model_id,
    versionId: d.version_id,
    variant: d.variant,
    device: d.device,
    status: d.status,
    minScale: d.min_scale,
    maxScale: d.max_scale,
    targetConcurrency: d.target_concurrency,
    maxBatchSize: d.max_batch_size,
    url: d.url,
    failureReason: d.failure_reason,
    createdAt: iso(d.created_at),
    updatedAt: iso(d.updated_at),
  };
}
