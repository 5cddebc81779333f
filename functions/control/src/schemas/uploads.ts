import { z } from "@hono/zod-openapi";
import { idParam, iso, isoTime } from "./common.js";

export const UploadSchema = z
  .object({
    id: z.string().openapi({ example: "upl_01jd8x3k5q0v8m2c7r9s4t6w1y" }),
    modelId: z.string(),
    versionId: z.string(),
    version: z.number().int(),
    status: z.enum(["active", "completed", "aborted", "expired"]),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    partSize: z.number().int(),
    partCount: z.number().int(),
    expiresAt: isoTime(),
  })
  .openapi("Upload");

export const CreateUploadSchema = z
  .object({
    sizeBytes: z
      .number()
      .int()
      .min(1)
      .max(5 * 1024 ** 4)
      .openapi({ example: 2_147_483_648, description: "Exact size of the file in bytes" }),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "expected 64 hex digits")
      .transform((s) => s.toLowerCase())
      .openapi({ description: "Lower-case hex SHA-256 of the whole file (checked by the pipeline)" }),
    filename: z.string().min(1).max(255).optional(),
  })
  .strict()
  .openapi("CreateUpload");

export const UploadPartSchema = z
  .object({ partNumber: z.number().int(), size: z.number().int(), etag: z.string() })
  .openapi("UploadedPart");

export const PartsRequestSchema = z
  .object({
    partNumbers: z
      .array(z.number().int().min(1).max(10_000))
      .min(1)
      .max(1000)
      .refine((list) => new Set(list).size === list.length, "part numbers must not repeat"),
  })
  .strict()
  .openapi("PartUrlsRequest");

export const PartUrlSchema = z
  .object({
    partNumber: z.number().int(),
    method: z.literal("PUT"),
    url: z
      .string()
      .openapi({ description: "Presigned S3 URL, or this API's own part route in embedded mode" }),
    headers: z.record(z.string(), z.string()),
    expiresAt: isoTime(),
  })
  .openapi("PartUrl");

export const CompletedVersionSchema = z
  .object({
    id: z.string(),
    version: z.number().int(),
    status: z.literal("uploaded"),
    sizeBytes: z.number().int(),
    sha256: z.string(),
  })
  .openapi("UploadedVersion");

export const UploadIdParams = z.object({
  uploadId: idParam("upl", "upl_01jd8x3k5q0v8m2c7r9s4t6w1y").openapi({
    param: { name: "uploadId", in: "path" },
  }),
});

export interface UploadRow {
  id: string;
  model_id: string;
  version_id: string;
  version: number;
  status: "active" | "completed" | "aborted" | "expired";
  size_bytes: bigint;
  sha256: string;
  part_size: bigint;
  part_count: number;
  expires_at: Date;
}

export function uploadView(u: UploadRow): z.infer<typeof UploadSchema> {
  return {
    id: u.id,
    modelId: u.model_id,
    versionId: u.version_id,
    version: u.version,
    status: u.status,
    sizeBytes: Number(u.size_bytes),
    sha256: u.sha256,
    partSize: Number(u.part_size),
    partCount: u.part_count,
    expiresAt: iso(u.expires_at),
  };
}
