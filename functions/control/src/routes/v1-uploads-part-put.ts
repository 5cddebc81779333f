import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { createRoute, z } from "@hono/zod-openapi";
import { requirePermission } from "@maas/auth";
import { AppError } from "@maas/errors";
import { partRange } from "@maas/storage";
import type { ControlApp } from "../control-env.js";
import { assertUploadOpen, findUpload } from "../lib/find-upload.js";
import { inTenant } from "../lib/request-scope.js";
import { errorResponses, idParam, jsonResponse } from "../schemas/common.js";
import { UploadPartSchema } from "../schemas/uploads.js";
import type { ControlServices } from "../services.js";

const route = createRoute({
  method: "put",
  path: "/v1/uploads/{uploadId}/parts/{partNumber}",
  tags: ["uploads"],
  summary: "Upload one part through the API (embedded mode, where the store cannot presign)",
  description:
    "Streams the body into the store with bounded memory. `Content-Length` is required and must equal " +
    "the part's size (`partSize`, or the remainder for the last part). Answers the part's `ETag`.",
  security: [{ bearer: [] }],
  middleware: [requirePermission("uploads:write")] as const,
  request: {
    params: z.object({
      uploadId: idParam("upl", "upl_01jd8x3k5q0v8m2c7r9s4t6w1y").openapi({
        param: { name: "uploadId", in: "path" },
      }),
      partNumber: z.coerce
        .number()
        .int()
        .min(1)
        .max(10_000)
        .openapi({ param: { name: "partNumber", in: "path" }, example: 1 }),
    }),
    body: {
      required: true,
      content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
    },
  },
  responses: {
    200: {
      ...jsonResponse(z.object({ part: UploadPartSchema }), "The stored part"),
      headers: { ETag: { description: "The part's etag", schema: { type: "string" } } },
    },
    ...errorResponses(404, 409, 410),
  },
});

export function registerV1UploadsPartPut(app: ControlApp, services: ControlServices): void {
  app.openapi(route, async (c) => {
    const { uploadId, partNumber } = c.req.valid("param");
    const upload = await inTenant(services.db, c, (trx) => findUpload(trx, uploadId));
    assertUploadOpen(upload, services.clock());
    if (partNumber > upload.part_count) {
      throw fieldError("partNumber", `must be 1..${upload.part_count}`);
    }
    const expected = partRange(partNumber, Number(upload.size_bytes), Number(upload.part_size)).size;
    const header = c.req.header("content-length");
    if (header === undefined || !/^\d+$/.test(header))
      throw fieldError("content-length", "required, in bytes");
    if (Number(header) !== expected) {
      throw fieldError(
        "content-length",
        `part ${partNumber} must be exactly ${expected} bytes, not ${header}`,
      );
    }
    const raw = c.req.raw.body;
    if (raw === null) throw fieldError("body", "required");
    // Streamed straight into the store: memory holds a few chunks, never the part.
    const body = Readable.fromWeb(raw as unknown as NodeReadableStream<Uint8Array>);
    const stored = await services.store.uploadPart(
      upload.object_key,
      upload.s3_upload_id,
      partNumber,
      body,
      expected,
    );
    c.header("ETag", `"${stored.etag}"`);
    return c.json({ part: { partNumber, size: stored.size, etag: stored.etag } }, 200);
  });
}

function fieldError(path: string, message: string): AppError {
  return new AppError("VALIDATION_FAILED", `invalid request: ${path}: ${message}`, {
    details: { issues: [{ path, message }] },
  });
}
