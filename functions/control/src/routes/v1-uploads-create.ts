import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { newId } from "@maas/db";
import { choosePartSize, objectKeys, partCount } from "@maas/storage";
import { sql } from "kysely";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { findModel } from "../lib/find-model.js";
import { reserveStorage } from "../lib/quotas.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonBody, jsonResponse, ModelRefSchema } from "../schemas/common.js";
import { CreateUploadSchema, UploadSchema, uploadView } from "../schemas/uploads.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "post",
  path: "/v1/models/{model}/uploads",
  tags: ["uploads"],
  summary: "Start a resumable upload of a new model version",
  description:
    "Reserves the declared size against the storage quota (403 QUOTA_EXCEEDED with `{ limit, used, requested }`), " +
    "chooses the part size (≥ 8 MiB, ≤ 10,000 parts) and opens the multipart upload.",
  security: [{ bearer: [] }],
  middleware: [requirePermission("uploads:write")] as const,
  request: { params: z.object({ model: ModelRefSchema }), body: jsonBody(CreateUploadSchema) },
  responses: { 201: jsonResponse(z.object({ upload: UploadSchema }), "The upload"), ...errorResponses(404) },
});

export function registerV1UploadsCreate(app: ControlApp, services: ControlServices): void {
  const { db, store, clock } = services;
  app.openapi(route, async (c) => {
    const { model: ref } = c.req.valid("param");
    const body = c.req.valid("json");
    // Validated first, so an impossible size is a 400 before any row or object exists.
    const partSize = choosePartSize(body.sizeBytes, { minPartSize: services.uploads.minPartSize });
    const parts = partCount(body.sizeBytes, partSize);
    const upload = await inTenant(db, c, async (trx, scope) => {
      const model = await findModel(trx, ref, { lock: true });
      // The quota is checked (and the bytes reserved) before the store is touched: a refused upload
      // leaves nothing behind in S3.
      await reserveStorage(trx, scope.tenantId, BigInt(body.sizeBytes));
      const { next } = await trx
        .selectFrom("model_versions")
        .select(sql<number>`coalesce(max(version), 0) + 1`.as("next"))
        .where("model_id", "=", model.id)
        .executeTakeFirstOrThrow();
      const versionId = newId("mver");
      const uploadId = newId("upl");
      const objectKey = objectKeys.upload({ tenantId: scope.tenantId, modelId: model.id, versionId });
      const expiresAt = new Date(clock().getTime() + services.uploads.ttlSeconds * 1000);
      await trx
        .insertInto("model_versions")
        .values({
          id: versionId,
          tenant_id: scope.tenantId,
          model_id: model.id,
          version: Number(next),
          size_bytes: body.sizeBytes,
          sha256: body.sha256,
          object_key: objectKey,
        })
        .execute();
      const { uploadId: s3UploadId } = await store.createMultipart(objectKey, {
        contentType: "application/octet-stream",
        metadata: { "upload-id": uploadId, sha256: body.sha256 },
      });
      try {
        const row = await trx
          .insertInto("uploads")
          .values({
            id: uploadId,
            tenant_id: scope.tenantId,
            model_id: model.id,
            version_id: versionId,
            object_key: objectKey,
            s3_upload_id: s3UploadId,
            size_bytes: body.sizeBytes,
            sha256: body.sha256,
            part_size: partSize,
            part_count: parts,
            expires_at: expiresAt,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await appendAudit(trx, {
          ...scope,
          action: "upload.create",
          target: uploadId,
          details: {
            modelId: model.id,
            versionId,
            sizeBytes: body.sizeBytes,
            ...(body.filename === undefined ? {} : { filename: body.filename }),
          },
        });
        return { ...row, version: Number(next) };
      } catch (err) {
        // The transaction rolls back: do not leave its multipart upload behind either.
        await store.abortMultipart(objectKey, s3UploadId).catch(() => undefined);
        throw err;
      }
    });
    return c.json({ upload: uploadView(upload) }, 201);
  });
}
