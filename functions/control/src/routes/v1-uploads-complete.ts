import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import { createEvent, events } from "@maas/events";
import { writeOutbox } from "@maas/events/outbox";
import { type PartInfo, partRange } from "@maas/storage";
import type { ControlApp } from "../control-env.js";
import { appendAudit } from "../lib/audit.js";
import { EVENT_SOURCE } from "../lib/event-source.js";
import { assertUploadOpen, findUpload, type UploadWithVersion } from "../lib/find-upload.js";
import { settleStorage } from "../lib/quotas.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common.js";
import { CompletedVersionSchema, UploadIdParams } from "../schemas/uploads.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "post",
  path: "/v1/uploads/{uploadId}/complete",
  tags: ["uploads"],
  summary: "Finish an upload: the server checks every part and the total size, then records the version",
  description:
    "Lists the parts itself; missing parts → 409 CONFLICT with `details.missingParts`, parts of the wrong " +
    "size → 409 with `details.wrongSizeParts`. Emits `model.version.uploaded` through the outbox.",
  security: [{ bearer: [] }],
  middleware: [requirePermission("uploads:write")] as const,
  request: { params: UploadIdParams, body: jsonBody(z.object({}).strict()) },
  responses: {
    200: jsonResponse(z.object({ version: CompletedVersionSchema }), "The uploaded version"),
    ...errorResponses(404, 409, 410),
  },
});

export function registerV1UploadsComplete(app: ControlApp, services: ControlServices): void {
  const { store, clock } = services;
  app.openapi(route, async (c) => {
    const { uploadId } = c.req.valid("param");
    const version = await inTenant(services.db, c, async (trx, scope) => {
      // Locked: a concurrent complete or abort of the same upload waits and then sees it finished.
      const upload = await findUpload(trx, uploadId, { lock: true });
      assertUploadOpen(upload, clock());
      const parts = await store.listParts(upload.object_key, upload.s3_upload_id);
      assertAllParts(upload, parts);
      const wanted = parts.filter((p) => p.partNumber <= upload.part_count);
      const done = await store.completeMultipart(
        upload.object_key,
        upload.s3_upload_id,
        wanted.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
      );
      if (done.size !== Number(upload.size_bytes)) {
        // Unreachable when the part sizes matched; kept because a wrong size here would be billed.
        throw new AppError("CONFLICT", `stored ${done.size} bytes, declared ${upload.size_bytes}`);
      }
      const now = clock();
      await trx
        .updateTable("uploads")
        .set({ status: "completed", completed_at: now })
        .where("id", "=", upload.id)
        .execute();
      const row = await trx
        .updateTable("model_versions")
        .set({ status: "uploaded" })
        .where("id", "=", upload.version_id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await settleStorage(trx, scope.tenantId, upload.size_bytes);
      await writeOutbox(trx, [
        createEvent(events.modelVersionUploaded, {
          source: EVENT_SOURCE,
          subject: upload.version_id,
          data: {
            tenantId: scope.tenantId,
            modelId: upload.model_id,
            versionId: upload.version_id,
            objectKey: upload.object_key,
            sizeBytes: Number(upload.size_bytes),
            sha256: upload.sha256,
            format: "onnx",
          },
        }),
      ]);
      await appendAudit(trx, {
        ...scope,
        action: "upload.complete",
        target: upload.id,
        details: { versionId: upload.version_id, sizeBytes: Number(upload.size_bytes) },
      });
      return row;
    });
    return c.json(
      {
        version: {
          id: version.id,
          version: version.version,
          status: "uploaded" as const,
          sizeBytes: Number(version.size_bytes),
          sha256: version.sha256,
        },
      },
      200,
    );
  });
}

/** Every part 1..partCount present with its exact size, else 409 saying which are missing or wrong. */
function assertAllParts(upload: UploadWithVersion, parts: PartInfo[]): void {
  const byNumber = new Map(parts.map((p) => [p.partNumber, p]));
  const total = Number(upload.size_bytes);
  const partSize = Number(upload.part_size);
  const missingParts: number[] = [];
  const wrongSizeParts: { partNumber: number; expected: number; actual: number }[] = [];
  for (let n = 1; n <= upload.part_count; n++) {
    const part = byNumber.get(n);
    const expected = partRange(n, total, partSize).size;
    if (part === undefined) missingParts.push(n);
    else if (part.size !== expected) wrongSizeParts.push({ partNumber: n, expected, actual: part.size });
  }
  if (missingParts.length > 0 || wrongSizeParts.length > 0) {
    const message =
      missingParts.length > 0
        ? `${missingParts.length} of ${upload.part_count} parts are missing`
        : `${wrongSizeParts.length} parts have the wrong size`;
    throw new AppError("CONFLICT", message, { details: { missingParts, wrongSizeParts } });
  }
}
