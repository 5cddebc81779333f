import { createHash } from "node:crypto";
import { type Database, newId, withSystem } from "@maas/db";
import { createEvent, events, type MaasEvent } from "@maas/events";
import { type ObjectStore, objectKeys } from "@maas/storage";
import type { Kysely } from "kysely";

export interface SeededVersion {
  tenantId: string;
  modelId: string;
  versionId: string;
  objectKey: string;
  sizeBytes: number;
  sha256: string;
  /** A fresh `model.version.uploaded` for this version (a new event id each call). */
  uploadedEvent(): MaasEvent;
}

export interface SeedOptions {
  /** Declared at upload create; default the bytes' own (a lie makes a mismatch). */
  sha256?: string;
  sizeBytes?: number;
  /** Tenant's storage quota; default the schema's. */
  maxStorageBytes?: number;
  /** Store nothing (the object went missing). */
  skipObject?: boolean;
}

/**
 * What the control API leaves behind after `POST /v1/uploads/{id}/complete`: a tenant with its quota
 * and storage row, a model, a version in `uploaded` and its object in the store. For the pipeline's
 * unit and integration tests.
 *
 * @example
 * const v = await seedUploadedVersion(db, store, encodeModel(zoo.mlpClassifier()));
 * await post(fn, v.uploadedEvent());
 */
export async function seedUploadedVersion(
  db: Kysely<Database>,
  store: ObjectStore,
  bytes: Uint8Array,
  options: SeedOptions = {},
): Promise<SeededVersion> {
  const tenantId = newId("tnt");
  const modelId = newId("mdl");
  const versionId = newId("mver");
  const objectKey = objectKeys.upload({ tenantId, modelId, versionId });
  const sha256 = options.sha256 ?? createHash("sha256").update(bytes).digest("hex");
  const sizeBytes = options.sizeBytes ?? bytes.byteLength;
  if (!options.skipObject) await store.put(objectKey, bytes, { contentLength: bytes.byteLength });
  await withSystem(db, async (trx) => {
    await trx
      .insertInto("tenants")
      .values({ id: tenantId, slug: `t-${tenantId.slice(-12)}`, name: "Pipeline test" })
      .execute();
    await trx
      .insertInto("quotas")
      .values({
        tenant_id: tenantId,
        ...(options.maxStorageBytes === undefined ? {} : { max_storage_bytes: options.maxStorageBytes }),
      })
      .execute();
    await trx.insertInto("tenant_storage").values({ tenant_id: tenantId, used_bytes: sizeBytes }).execute();
    await trx.insertInto("models").values({ id: modelId, tenant_id: tenantId, name: "model" }).execute();
    await trx
      .insertInto("model_versions")
      .values({
        id: versionId,
        tenant_id: tenantId,
        model_id: modelId,
        version: 1,
        status: "uploaded",
        size_bytes: sizeBytes,
        sha256,
        object_key: objectKey,
      })
      .execute();
  });
  return {
    tenantId,
    modelId,
    versionId,
    objectKey,
    sizeBytes,
    sha256,
    uploadedEvent: () =>
      createEvent(events.modelVersionUploaded, {
        source: "/functions/control",
        subject: versionId,
        data: { tenantId, modelId, versionId, objectKey, sizeBytes, sha256, format: "onnx" },
      }),
  };
}

/** The version row, its outbox events and the tenant's storage row, as the system role sees them. */
export async function versionState(db: Kysely<Database>, versionId: string) {
  return withSystem(db, async (trx) => {
    const version = await trx
      .selectFrom("model_versions")
      .selectAll()
      .where("id", "=", versionId)
      .executeTakeFirstOrThrow();
    const outbox = await trx
      .selectFrom("outbox")
      .select(["event_id", "topic", "event"])
      .where("tenant_id", "=", version.tenant_id)
      .orderBy("id")
      .execute();
    const storage = await trx
      .selectFrom("tenant_storage")
      .selectAll()
      .where("tenant_id", "=", version.tenant_id)
      .executeTakeFirstOrThrow();
    return { version, outbox, storage };
  });
}
