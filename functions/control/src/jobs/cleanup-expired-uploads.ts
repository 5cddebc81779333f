import { type Database, withSystem } from "@maas/db";
import type { ObjectStore } from "@maas/storage";
import type { Kysely } from "kysely";
import { sql } from "kysely";

export interface CleanupOptions {
  db: Kysely<Database>;
  store: ObjectStore;
  /** UTC now. */
  now: Date;
  /**
   * A multipart upload in the store with no active row is a stray only when older than this: an
   * upload being created right now has its multipart upload a moment before its row commits.
   * Default 15 minutes.
   */
  strayGraceMs?: number;
  /** Where tenant objects live (default `tenants/`). */
  prefix?: string;
  /** Per-item failures (the job goes on with the next item). */
  onError?: (error: unknown, what: string) => void;
}

export interface CleanupResult {
  /** Active uploads past their expiry, aborted in the store and marked expired. */
  expired: number;
  /** Multipart uploads in the store that no active upload owns, aborted. */
  strays: number;
  failures: number;
}

const EXPIRED_REASON = "the upload expired before it was completed";

/**
 * Aborts what uploads left behind, so nothing stays in S3 for expired or abandoned uploads:
 * 1. active uploads past `expires_at`: abort in the store, mark `expired`, release the reserved
 *    bytes, and mark their version rejected (`UPLOAD_EXPIRED`) — one system transaction each;
 * 2. multipart uploads under `tenants/` that no active row owns (a crash between the store and the
 *    database), older than the grace period.
 * Safe to run concurrently with itself and with the API: each upload is re-checked under a row lock.
 *
 * @example
 * const result = await cleanupExpiredUploads({ db, store, now: new Date() });
 * // { expired: 2, strays: 0, failures: 0 }
 */
export async function cleanupExpiredUploads(options: CleanupOptions): Promise<CleanupResult> {
  const { db, store, now } = options;
  const graceMs = options.strayGraceMs ?? 15 * 60_000;
  const onError = options.onError ?? (() => undefined);
  const result: CleanupResult = { expired: 0, strays: 0, failures: 0 };

  const due = await withSystem(db, (trx) =>
    trx
      .selectFrom("uploads")
      .select("id")
      .where("status", "=", "active")
      .where("expires_at", "<=", now)
      .orderBy("expires_at")
      .limit(1000)
      .execute(),
  );
  for (const { id } of due) {
    try {
      const done = await withSystem(db, async (trx) => {
        const upload = await trx
          .selectFrom("uploads")
          .selectAll()
          .where("id", "=", id)
          .where("status", "=", "active")
          .where("expires_at", "<=", now)
          .forUpdate()
          .skipLocked()
          .executeTakeFirst();
        // Completed, aborted or being finished by someone else meanwhile.
        if (upload === undefined) return false;
        await store.abortMultipart(upload.object_key, upload.s3_upload_id);
        await trx.updateTable("uploads").set({ status: "expired" }).where("id", "=", id).execute();
        await trx
          .updateTable("tenant_storage")
          .set({
            reserved_bytes: sql`greatest(reserved_bytes - ${upload.size_bytes.toString()}::bigint, 0)`,
            updated_at: sql`now()`,
          })
          .where("tenant_id", "=", upload.tenant_id)
          .execute();
        await trx
          .updateTable("model_versions")
          .set({ status: "rejected", rejection_code: "UPLOAD_EXPIRED", rejection_reason: EXPIRED_REASON })
          .where("id", "=", upload.version_id)
          .where("status", "=", "uploading")
          .execute();
        await trx
          .insertInto("audit_log")
          .values({
            tenant_id: upload.tenant_id,
            actor: "system:upload-cleanup",
            action: "upload.expire",
            target: id,
            details: JSON.stringify({ versionId: upload.version_id, sizeBytes: Number(upload.size_bytes) }),
          })
          .execute();
        return true;
      });
      if (done) result.expired++;
    } catch (err) {
      result.failures++;
      onError(err, `upload ${id}`);
    }
  }

  const inStore = await store.listMultipartUploads(options.prefix ?? "tenants/");
  const old = inStore.filter((u) => now.getTime() - u.initiated.getTime() >= graceMs);
  if (old.length > 0) {
    const owned = await withSystem(db, (trx) =>
      trx
        .selectFrom("uploads")
        .select("s3_upload_id")
        .where("status", "=", "active")
        .where(
          "s3_upload_id",
          "in",
          old.map((u) => u.uploadId),
        )
        .execute(),
    );
    const active = new Set(owned.map((r) => r.s3_upload_id));
    for (const stray of old.filter((u) => !active.has(u.uploadId))) {
      try {
        await store.abortMultipart(stray.key, stray.uploadId);
        result.strays++;
      } catch (err) {
        result.failures++;
        onError(err, `multipart upload ${stray.uploadId} of ${stray.key}`);
      }
    }
  }
  return result;
}
