import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { assertUploadOpen, findUpload } from "../lib/find-upload.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common.js";
import { PartsRequestSchema, PartUrlSchema, UploadIdParams } from "../schemas/uploads.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "post",
  path: "/v1/uploads/{uploadId}/parts",
  tags: ["uploads"],
  summary: "URLs to PUT parts to (up to 1,000 per call)",
  description:
    "Presigned S3 URLs, or, when the store cannot presign (embedded mode), this API's own " +
    "`PUT /v1/uploads/{uploadId}/parts/{partNumber}`, which needs the same Authorization header.",
  security: [{ bearer: [] }],
  middleware: [requirePermission("uploads:write")] as const,
  request: { params: UploadIdParams, body: jsonBody(PartsRequestSchema) },
  responses: {
    200: jsonResponse(z.object({ parts: z.array(PartUrlSchema) }), "One URL per requested part"),
    ...errorResponses(404, 409, 410),
  },
});

export function registerV1UploadsParts(app: ControlApp, services: ControlServices): void {
  const { store, clock } = services;
  app.openapi(route, async (c) => {
    const { uploadId } = c.req.valid("param");
    const { partNumbers } = c.req.valid("json");
    const upload = await inTenant(services.db, c, (trx) => findUpload(trx, uploadId));
    const now = clock();
    assertUploadOpen(upload, now);
    const beyond = partNumbers.filter((n) => n > upload.part_count);
    if (beyond.length > 0) {
      throw new AppError(
        "VALIDATION_FAILED",
        `invalid body: partNumbers: this upload has ${upload.part_count} parts`,
        {
          details: { issues: [{ path: "partNumbers", message: `must be 1..${upload.part_count}` }], beyond },
        },
      );
    }
    // A URL never outlives its upload: after expiry the cleanup job aborts the multipart upload.
    const untilExpiry = Math.floor((upload.expires_at.getTime() - now.getTime()) / 1000);
    const expiresIn = Math.max(1, Math.min(services.uploads.presignSeconds, untilExpiry));
    const expiresAt = new Date(now.getTime() + expiresIn * 1000).toISOString();
    const parts = await Promise.all(
      partNumbers.map(async (partNumber) => {
        const presigned = await store.presignPart(
          upload.object_key,
          upload.s3_upload_id,
          partNumber,
          expiresIn,
        );
        const url = presigned ?? `${services.publicUrl}/v1/uploads/${upload.id}/parts/${partNumber}`;
        return { partNumber, method: "PUT" as const, url, headers: {}, expiresAt };
      }),
    );
    return c.json({ parts }, 200);
  });
}
