import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { findUpload } from "../lib/find-upload.js";
import { releaseStorage } from "../lib/quotas.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import { UploadIdParams, UploadSchema, uploadView } from "../schemas/uploads.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "delete",
  path: "/v1/uploads/{uploadId}",
  tags: ["uploads"],
  summary:
    "Abort an upload: drops its parts, releases the reserved storage and the version it would have made",
  security: [{ bearer: [] }],
  middleware: [requirePermission("uploads:write")] as const,
  request: { params: UploadIdParams },
  responses: {
    200: jsonResponse(z.object({ upload: UploadSchema }), "The aborted upload"),
    ...errorResponses(404, 409),
  },
});

export function registerV1UploadsAbort(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { uploadId } = c.req.valid("param");
    const upload = await inTenant(services.db, c, async (trx, scope) => {
      const upload = await findUpload(trx, uploadId, { lock: true });
      if (upload.status !== "active") {
        throw new AppError("CONFLICT", `upload ${uploadId} is ${upload.status}`, {
          details: { status: upload.status },
        });
      }
      // Store first: if it fails, the row stays active and the abort (or the cleanup job) can be retried.
      await services.store.abortMultipart(upload.object_key, upload.s3_upload_id);
      await releaseStorage(trx, scope.tenantId, upload.size_bytes);
      // The version never held bytes; deleting it frees its number and removes the upload row with it
      // (uploads.version_id cascades).
      await trx.deleteFrom("model_versions").where("id", "=", upload.version_id).execute();
      await appendAudit(trx, {
        ...scope,
        action: "upload.abort",
        target: upload.id,
        details: { versionId: upload.version_id, sizeBytes: Number(upload.size_bytes) },
      });
      return upload;
    });
    return c.json({ upload: uploadView({ ...upload, status: "aborted" }) }, 200);
  });
}
