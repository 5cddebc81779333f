import type { Database, Upload } from "@maas/db";
import { AppError } from "@maas/errors";
import type { Transaction } from "kysely";

export type UploadWithVersion = Upload & { version: number };

/** An upload of the transaction's tenant with its version number, or 404; `lock` = `for update`. */
export async function findUpload(
  trx: Transaction<Database>,
  uploadId: string,
  options: { lock?: boolean } = {},
): Promise<UploadWithVersion> {
  let query = trx
    .selectFrom("uploads")
    .innerJoin("model_versions", "model_versions.id", "uploads.version_id")
    .selectAll("uploads")
    .select("model_versions.version")
    .where("uploads.id", "=", uploadId);
  if (options.lock) query = query.forUpdate("uploads");
  const upload = await query.executeTakeFirst();
  if (upload === undefined) throw new AppError("NOT_FOUND", `upload ${uploadId} not found`);
  return upload;
}

/**
 * Refuses work on an upload that can no longer take parts: 409 CONFLICT once it is completed, 410
 * GONE once past its expiry (whether or not the cleanup job has run yet).
 */
export function assertUploadOpen(upload: Upload, now: Date): void {
  if (upload.status !== "active") {
    throw new AppError("CONFLICT", `upload ${upload.id} is ${upload.status}`, {
      details: { status: upload.status },
    });
  }
  if (upload.expires_at.getTime() <= now.getTime()) {
    throw new AppError("GONE", `upload ${upload.id} expired at ${upload.expires_at.toISOString()}`, {
      details: { expiresAt: upload.expires_at.toISOString() },
    });
  }
}
