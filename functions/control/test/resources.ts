import { generateApiKey } from "@maas/auth";
import { newId, withSystem } from "@maas/db";
import { objectKeys } from "@maas/storage";
import type { Harness, Seeded } from "./harness.js";

/** One of each resource in a tenant, made straight in the database (and the store), for route tests. */
export interface Resources {
  tenantId: string;
  modelId: string;
  modelName: string;
  /** A ready version 1 of the model, with an fp16 variant. */
  versionId: string;
  uploadId: string;
  deploymentId: string;
  memberId: string;
  keyId: string;
}

export async function seedResources(h: Harness, tenant: Seeded): Promise<Resources> {
  const { tenantId } = tenant;
  const modelId = newId("mdl");
  const modelName = `m-${modelId.slice(-8)}`;
  const versionId = newId("mver");
  const pendingVersionId = newId("mver");
  const uploadId = newId("upl");
  const deploymentId = newId("dep");
  const memberId = newId("mem");
  const key = generateApiKey();
  const uploadKey = objectKeys.upload({ tenantId, modelId, versionId: pendingVersionId });
  const { uploadId: s3UploadId } = await h.store.createMultipart(uploadKey);
  const sha = "a".repeat(64);
  await withSystem(h.db, async (trx) => {
    await trx.insertInto("models").values({ id: modelId, tenant_id: tenantId, name: modelName }).execute();
    await trx
      .insertInto("model_versions")
      .values([
        {
          id: versionId,
          tenant_id: tenantId,
          model_id: modelId,
          version: 1,
          status: "ready",
          size_bytes: 100,
          sha256: sha,
          object_key: objectKeys.upload({ tenantId, modelId, versionId }),
          signature: JSON.stringify({
            inputs: [{ name: "x", datatype: "FP32", shape: [-1, 4] }],
            outputs: [],
          }),
          variants: JSON.stringify([{ variant: "fp16", objectKey: "k", sizeBytes: 50, sha256: sha }]),
        },
        {
          id: pendingVersionId,
          tenant_id: tenantId,
          model_id: modelId,
          version: 2,
          size_bytes: 100,
          sha256: sha,
          object_key: uploadKey,
        },
      ])
      .execute();
    await trx
      .insertInto("uploads")
      .values({
        id: uploadId,
        tenant_id: tenantId,
        model_id: modelId,
        version_id: pendingVersionId,
        object_key: uploadKey,
        s3_upload_id: s3UploadId,
        size_bytes: 100,
        sha256: sha,
        part_size: 5 * 1024 * 1024,
        part_count: 1,
        expires_at: new Date(Date.now() + 3600_000),
      })
      .execute();
    await trx
      .insertInto("tenant_storage")
      .values({ tenant_id: tenantId, used_bytes: 100, reserved_bytes: 100 })
      .onConflict((oc) => oc.column("tenant_id").doNothing())
      .execute();
    await trx
      .insertInto("deployments")
      .values({
        id: deploymentId,
        tenant_id: tenantId,
        model_id: modelId,
        version_id: versionId,
        name: `d-${deploymentId.slice(-8)}`,
      })
      .execute();
    await trx
      .insertInto("members")
      .values({ id: memberId, tenant_id: tenantId, subject: `user-${memberId}`, role: "viewer" })
      .execute();
    await trx
      .insertInto("api_keys")
      .values({
        id: key.id,
        tenant_id: tenantId,
        prefix: key.prefix,
        hash: key.hash,
        role: "viewer",
        name: "extra",
      })
      .execute();
  });
  return { tenantId, modelId, modelName, versionId, uploadId, deploymentId, memberId, keyId: key.id };
}
