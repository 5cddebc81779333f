import { z } from "zod";

// The control API's upload contract (issue 4). Parsed loosely: extra fields are the server's business,
// missing or mistyped ones are a BAD_RESPONSE rather than a crash deep in the upload loop.

export const modelSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.string().nullish(),
  createdAt: z.string().optional(),
});
export type Model = z.infer<typeof modelSchema>;

export const versionSchema = z.looseObject({
  id: z.string(),
  version: z.number(),
  status: z.string(),
  sizeBytes: z.coerce.number().optional(),
  sha256: z.string().optional(),
});
export type ModelVersion = z.infer<typeof versionSchema>;

export const uploadSchema = z.looseObject({
  id: z.string(),
  modelId: z.string(),
  versionId: z.string(),
  version: z.number(),
  status: z.string(),
  sizeBytes: z.coerce.number().int().nonnegative(),
  sha256: z.string(),
  partSize: z.coerce.number().int().positive(),
  partCount: z.coerce.number().int().positive(),
  expiresAt: z.string().optional(),
});
export type Upload = z.infer<typeof uploadSchema>;

export const uploadedPartSchema = z.looseObject({
  partNumber: z.number().int().positive(),
  size: z.coerce.number().int().nonnegative(),
  etag: z.string().optional(),
});
export type UploadedPart = z.infer<typeof uploadedPartSchema>;

export const partUrlSchema = z.looseObject({
  partNumber: z.number().int().positive(),
  method: z.string().default("PUT"),
  url: z.url(),
  headers: z.record(z.string(), z.string()).default({}),
  expiresAt: z.string().optional(),
});
export type PartUrl = z.infer<typeof partUrlSchema>;

export const listModelsResponse = z.object({ models: z.array(modelSchema) });
export const getModelResponse = z.object({
  model: modelSchema,
  versions: z.array(versionSchema).default([]),
});
export const createModelResponse = z.object({ model: modelSchema });
export const uploadResponse = z.object({ upload: uploadSchema });
export const uploadStatusResponse = z.object({ upload: uploadSchema, parts: z.array(uploadedPartSchema) });
export const partUrlsResponse = z.object({ parts: z.array(partUrlSchema) });
export const completeResponse = z.object({ version: versionSchema });

export const errorBodySchema = z.object({
  error: z.looseObject({
    code: z.string(),
    message: z.string(),
    requestId: z.string().optional(),
    docs: z.string().optional(),
    details: z.unknown().optional(),
  }),
});
