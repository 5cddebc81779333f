import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import type { PartInfo } from "@maas/storage";
import type { ControlApp } from "../control-env.js";
import { findUpload } from "../lib/find-upload.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonResponse } from "../schemas/common.js";
import { UploadIdParams, UploadPartSchema, UploadSchema, uploadView } from "../schemas/uploads.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "get",
  path: "/v1/uploads/{uploadId}",
  tags: ["uploads"],
  summary: "An upload and the parts the store holds (resume from any machine with only the id)",
  security: [{ bearer: [] }],
  middleware: [requirePermission("uploads:write")] as const,
  request: { params: UploadIdParams },
  responses: {
    200: jsonResponse(z.object({ upload: UploadSchema, parts: z.array(UploadPartSchema) }), "The upload"),
    ...errorResponses(404),
  },
});

export function registerV1UploadsGet(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { uploadId } = c.req.valid("param");
    const upload = await inTenant(services.db, c, (trx) => findUpload(trx, uploadId));
    // The store is the truth about parts (a client may have PUT straight to S3); only an open upload has any.
    const parts: PartInfo[] =
      upload.status === "active"
        ? await services.store.listParts(upload.object_key, upload.s3_upload_id)
        : [];
    return c.json(
      {
        upload: uploadView(upload),
        parts: parts.map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag })),
      },
      200,
    );
  });
}
