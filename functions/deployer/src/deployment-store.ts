import { type Database, withSystem } from "@maas/db";
import { createEvent, events, type MaasEvent } from "@maas/events";
import { writeOutbox } from "@maas/events/outbox";
import type { InferenceDeployment } from "@maas/k8s";
import type { Kysely } from "kysely";

/** A deployments row with what rendering needs from its tenant, model and version. */
export interface DeploymentTarget {
  status: string;
  tenantSlug: string;
  deployment: Omit<InferenceDeployment, "modelUri">;
  objectKey: string;
  variants: unknown[];
}

/** The deployment and its tenant/model/version, or undefined when any of them is gone. */
export async function loadDeploymentTarget(
  db: Kysely<Database>,
  deploymentId: string,
): Promise<DeploymentTarget | undefined> {
  const row = await withSystem(db, (trx) =>
    trx
      .selectFrom("deployments as d")
      .innerJoin("tenants as t", "t.id", "d.tenant_id")
      .innerJoin("models as m", "m.id", "d.model_id")
      .innerJoin("model_versions as v", "v.id", "d.version_id")
      .select([
        "d.id",
        "d.tenant_id",
        "d.model_id",
        "d.version_id",
        "d.name",
        "d.variant",
        "d.device",
        "d.status",
        "d.min_scale",
        "d.max_scale",
        "d.target_concurrency",
        "d.max_batch_size",
        "t.slug",
        "m.name as model_name",
        "v.version",
        "v.object_key",
        "v.sha256",
        "v.variants",
      ])
      .where("d.id", "=", deploymentId)
      .executeTakeFirst(),
  );
  if (!row) return undefined;
  return {
    status: row.status,
    tenantSlug: row.slug,
    objectKey: row.object_key,
    variants: row.variants,
    deployment: {
      id: row.id,
      tenantId: row.tenant_id,
      tenantSlug: row.slug,
      modelId: row.model_id,
      modelName: row.model_name,
      versionId: row.version_id,
      version: row.version,
      name: row.name,
      variant: row.variant,
      device: row.device,
      minScale: row.min_scale,
      maxScale: row.max_scale,
      targetConcurrency: row.target_concurrency,
      maxBatchSize: row.max_batch_size,
      // The sha256 is the FP32 file's; other variants are checked by the pipeline that built them.
      ...(row.variant === "fp32" ? { modelSha256: row.sha256 } : {}),
    },
  };
}

/** The object key of the deployed variant: the version's own file for fp32, else `<variant>.onnx` beside it. */
export function variantObjectKey(
  target: Pick<DeploymentTarget, "objectKey" | "variants">,
  variant: string,
): string {
  if (variant === "fp32") return target.objectKey;
  for (const v of target.variants) {
    const entry = v as { variant?: unknown; objectKey?: unknown };
    if (entry.variant === variant && typeof entry.objectKey === "string") return entry.objectKey;
  }
  return target.objectKey.replace(/[^/]+$/, `${variant}.onnx`);
}

export type Outcome =
  | { status: "ready"; url: string }
  | { status: "failed"; reason: string; message: string };

/**
 * Records the rollout's outcome and its event in one transaction, only if the deployment is still
 * pending: a redelivered deployment.requested finds it ready/failed already and emits nothing twice.
 * Returns the event written, or undefined when the state had already moved on.
 */
export async function recordOutcome(
  db: Kysely<Database>,
  ids: { tenantId: string; deploymentId: string },
  outcome: Outcome,
  source: string,
): Promise<MaasEvent | undefined> {
  return withSystem(db, async (trx) => {
    const updated = await trx
      .updateTable("deployments")
      .set(
        outcome.status === "ready"
          ? { status: "ready", url: outcome.url, failure_reason: null, updated_at: new Date() }
          : {
              status: "failed",
              failure_reason: `${outcome.reason}: ${outcome.message}`.slice(0, 2000),
              updated_at: new Date(),
            },
      )
      .where("id", "=", ids.deploymentId)
      .where("status", "=", "pending")
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return undefined;
    const event =
      outcome.status === "ready"
        ? createEvent(events.deploymentReady, { source, data: { ...ids, url: outcome.url } })
        : createEvent(events.deploymentFailed, {
            source,
            data: { ...ids, reason: outcome.reason, message: outcome.message },
          });
    await writeOutbox(trx, [event]);
    return event;
  });
}

/** Marks a deployment deleted (after its Service is gone); false when it already was. */
export async function markDeleted(db: Kysely<Database>, deploymentId: string): Promise<boolean> {
  const updated = await withSystem(db, (trx) =>
    trx
      .updateTable("deployments")
      .set({ status: "deleted", updated_at: new Date() })
      .where("id", "=", deploymentId)
      .where("status", "<>", "deleted")
      .executeTakeFirst(),
  );
  return updated.numUpdatedRows > 0n;
}

/** `RevisionFailed` → `REVISION_FAILED`: Knative's reasons as the event's SCREAMING_SNAKE code. */
export function reasonCode(reason: string): string {
  const code = reason
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toUpperCase();
  return /^[A-Z]/.test(code) ? code : `K8S_${code || "UNKNOWN"}`;
}
