import { type Database, type ModelVersionStatus, withSystem } from "@maas/db";
import { createEvent, events, type MaasEvent } from "@maas/events";
import { writeOutbox } from "@maas/events/outbox";
import type { ModelSignature } from "@maas/onnx";
import { type Kysely, sql } from "kysely";

/** The version row as the pipeline needs it. */
export interface ClaimedVersion {
  id: string;
  tenantId: string;
  modelId: string;
  sizeBytes: number;
  sha256: string;
  objectKey: string;
}

export type ClaimResult =
  | { kind: "claimed"; version: ClaimedVersion }
  /** No such version (the upload was aborted and its row deleted): nothing to do. */
  | { kind: "missing" }
  /** Already ready or rejected: a redelivery, nothing changes. */
  | { kind: "done"; status: ModelVersionStatus }
  /** Another delivery is validating it now, or its upload is not complete yet. */
  | { kind: "busy"; status: ModelVersionStatus };

/**
 * Moves the version from `uploaded` to `validating` with one conditional update, so of two concurrent
 * deliveries exactly one gets the row; the other learns why not from a second read.
 *
 * @example
 * const claim = await claimVersion(db, "mver_1");
 * if (claim.kind === "claimed") process(claim.version);
 */
export async function claimVersion(db: Kysely<Database>, versionId: string): Promise<ClaimResult> {
  return withSystem(db, async (trx) => {
    const row = await trx
      .updateTable("model_versions")
      .set({ status: "validating" })
      .where("id", "=", versionId)
      .where("status", "=", "uploaded")
      .returning(["id", "tenant_id", "model_id", "size_bytes", "sha256", "object_key"])
      .executeTakeFirst();
    if (row) {
      return {
        kind: "claimed",
        version: {
          id: row.id,
          tenantId: row.tenant_id,
          modelId: row.model_id,
          sizeBytes: Number(row.size_bytes),
          sha256: row.sha256,
          objectKey: row.object_key,
        },
      };
    }
    const current = await trx
      .selectFrom("model_versions")
      .select("status")
      .where("id", "=", versionId)
      .executeTakeFirst();
    if (!current) return { kind: "missing" };
    if (current.status === "ready" || current.status === "rejected")
      return { kind: "done", status: current.status };
    return { kind: "busy", status: current.status };
  });
}

/**
 * Gives a claimed version back (`validating` → `uploaded`) after an infrastructure failure, so the
 * broker's retry can claim it again. Only from `validating`: a verdict already written stays.
 */
export async function releaseVersion(db: Kysely<Database>, versionId: string): Promise<void> {
  await withSystem(db, (trx) =>
    trx
      .updateTable("model_versions")
      .set({ status: "uploaded" })
      .where("id", "=", versionId)
      .where("status", "=", "validating")
      .execute(),
  );
}

/** One entry of `model_versions.variants`: where the file is and what it measured. */
export interface VariantRecord {
  variant: "fp32" | "fp16" | "int8";
  objectKey: string;
  sizeBytes: number;
  sha256: string;
  [figure: string]: unknown;
}

export interface ReadyInput {
  version: ClaimedVersion;
  signature: ModelSignature;
  /** Validation notes and why a variant was not stored; kept in the signature column for readers. */
  notes: string[];
  skippedVariants: { variant: string; reason: string; figures?: unknown }[];
  /** fp32 first, then the built variants that were stored. */
  variants: VariantRecord[];
  source: string;
}

export type ReadyResult =
  | { recorded: true; event: MaasEvent; variants: VariantRecord[]; droppedForQuota: VariantRecord[] }
  | { recorded: false };

/**
 * Records the verdict `ready` with its signature and variants, adds the built variants' bytes to the
 * tenant's storage use, and writes `model.version.ready` to the outbox, in one transaction. Variants
 * that would take the tenant over its storage quota are left out (returned in `droppedForQuota` for
 * the caller to delete): the model itself is fine and stays servable in FP32.
 * Only from `validating`: `recorded: false` when the version moved on (deleted, or another verdict).
 *
 * @example
 * const r = await recordReady(db, { version, signature, notes, skippedVariants, variants, source });
 */
export async function recordReady(db: Kysely<Database>, input: ReadyInput): Promise<ReadyResult> {
  const { version } = input;
  return withSystem(db, async (trx) => {
    const current = await trx
      .selectFrom("model_versions")
      .select("status")
      .where("id", "=", version.id)
      .forUpdate()
      .executeTakeFirst();
    if (current?.status !== "validating") return { recorded: false };

    // The storage row is locked so concurrent writers (uploads, other versions) add up correctly.
    await trx
      .insertInto("tenant_storage")
      .values({ tenant_id: version.tenantId })
      .onConflict((oc) => oc.column("tenant_id").doNothing())
      .execute();
    const storage = await trx
      .selectFrom("tenant_storage")
      .select(["used_bytes", "reserved_bytes"])
      .where("tenant_id", "=", version.tenantId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const quota = await trx
      .selectFrom("quotas")
      .select("max_storage_bytes")
      .where("tenant_id", "=", version.tenantId)
      .executeTakeFirst();
    let used = storage.used_bytes + storage.reserved_bytes;
    const kept: VariantRecord[] = [];
    const droppedForQuota: VariantRecord[] = [];
    let added = 0n;
    for (const v of input.variants) {
      // fp32 is the upload itself, already counted when the upload completed.
      if (v.variant === "fp32") {
        kept.push(v);
        continue;
      }
      const size = BigInt(v.sizeBytes);
      if (quota && used + size > quota.max_storage_bytes) {
        droppedForQuota.push(v);
        continue;
      }
      used += size;
      added += size;
      kept.push(v);
    }
    const skippedVariants = [
      ...input.skippedVariants,
      ...droppedForQuota.map((v) => ({
        variant: v.variant,
        reason: `storing it (${v.sizeBytes} bytes) would exceed the tenant's storage quota of ${quota?.max_storage_bytes} bytes`,
      })),
    ];
    if (added > 0n) {
      await trx
        .updateTable("tenant_storage")
        .set({ used_bytes: sql<bigint>`used_bytes + ${added}`, updated_at: new Date() })
        .where("tenant_id", "=", version.tenantId)
        .execute();
    }
    await trx
      .updateTable("model_versions")
      .set({
        status: "ready",
        signature: JSON.stringify({ ...input.signature, notes: input.notes, skippedVariants }),
        variants: JSON.stringify(kept),
        rejection_code: null,
        rejection_reason: null,
        ready_at: new Date(),
      })
      .where("id", "=", version.id)
      .execute();
    const event = createEvent(events.modelVersionReady, {
      source: input.source,
      subject: version.id,
      data: {
        tenantId: version.tenantId,
        modelId: version.modelId,
        versionId: version.id,
        signature: { inputs: input.signature.inputs, outputs: input.signature.outputs },
        variants: kept.map((v) => ({
          variant: v.variant,
          objectKey: v.objectKey,
          sizeBytes: v.sizeBytes,
          sha256: v.sha256,
        })),
      },
    });
    await writeOutbox(trx, [event]);
    return { recorded: true, event, variants: kept, droppedForQuota };
  });
}

export interface RejectInput {
  version: Pick<ClaimedVersion, "id" | "tenantId" | "modelId">;
  code: string;
  message: string;
  source: string;
}

/**
 * Records the verdict `rejected` with its reason and writes `model.version.rejected` to the outbox,
 * in one transaction; only from `validating`. Returns the event, or undefined when the version had
 * moved on.
 *
 * @example
 * await recordRejected(db, { version, code: "CHECKSUM_MISMATCH", message, source });
 */
export async function recordRejected(
  db: Kysely<Database>,
  input: RejectInput,
): Promise<MaasEvent | undefined> {
  const { version } = input;
  return withSystem(db, async (trx) => {
    const updated = await trx
      .updateTable("model_versions")
      .set({ status: "rejected", rejection_code: input.code, rejection_reason: input.message.slice(0, 4000) })
      .where("id", "=", version.id)
      .where("status", "=", "validating")
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return undefined;
    const event = createEvent(events.modelVersionRejected, {
      source: input.source,
      subject: version.id,
      data: {
        tenantId: version.tenantId,
        modelId: version.modelId,
        versionId: version.id,
        reason: input.code,
        message: input.message,
      },
    });
    await writeOutbox(trx, [event]);
    return event;
  });
}
