import { type Database, type ModelVersionStatus, withSystem } from "@maas/db";
import { createEvent, events, type MaasEvent } from "@maas/events";
import { writeOutbox } from "@maas/events/outbox";
import type { ModelSignature } from "@maas/onnx";
import { objectKeys } from "@maas/storage";
import { type Kysely, sql, type Transaction } from "kysely";

/** The version row as the pipeline needs it, with the claim it holds. */
export interface ClaimedVersion {
  id: string;
  tenantId: string;
  modelId: string;
  sizeBytes: number;
  sha256: string;
  objectKey: string;
  /**
   * `validation_attempts` after this claim: the fencing token. Every write of the claim's outcome
   * checks it, so an instance that was presumed dead and overtaken cannot overwrite the new owner's work.
   */
  attempt: number;
}

export interface ClaimOptions {
  /** A `validating` claim older than this is presumed dead (its instance crashed) and taken over. */
  staleAfterMs: number;
  /** Validation starts allowed per version; a stale claim at this count is rejected, not taken over. */
  maxAttempts: number;
  /** `source` of the `model.version.rejected` written when the attempts are exhausted. */
  source: string;
}

export type ClaimResult =
  /** `takenOverFrom`: the stale claim's start time when this claim replaced one (null: unknown). */
  | { kind: "claimed"; version: ClaimedVersion; takenOverFrom?: Date | null }
  /** No such version (the upload was aborted and its row deleted): nothing to do. */
  | { kind: "missing" }
  /** Already ready or rejected: a redelivery, nothing changes. */
  | { kind: "done"; status: ModelVersionStatus }
  /**
   * Another delivery is validating it now (`retryAfterSeconds`: until its claim goes stale), or its
   * upload is not complete yet.
   */
  | { kind: "busy"; status: ModelVersionStatus; retryAfterSeconds?: number }
  /** Its claim went stale `maxAttempts` times: rejected now (PROCESSING_ABANDONED), in this call. */
  | { kind: "abandoned"; rejection: Rejection };

/** The verdict's code when every attempt at a version died without one. */
export const PROCESSING_ABANDONED = "PROCESSING_ABANDONED";

/**
 * Claims the version for validation: from `uploaded`, or from a `validating` claim older than
 * `staleAfterMs` (the instance holding it died mid-run; without this the version would stay
 * `validating` forever). The row is locked while deciding, so of concurrent deliveries exactly one
 * gets it. Ages are measured on the database's clock (`now()`), never on the instances' clocks.
 * A stale claim that already used `maxAttempts` is not taken over: the model keeps killing the
 * instances processing it, so the version is rejected with PROCESSING_ABANDONED, in the same transaction.
 *
 * @example
 * const claim = await claimVersion(db, "mver_1", { staleAfterMs: 900_000, maxAttempts: 3, source });
 * if (claim.kind === "claimed") process(claim.version);
 */
export async function claimVersion(
  db: Kysely<Database>,
  versionId: string,
  options: ClaimOptions,
): Promise<ClaimResult> {
  const staleAfterSeconds = Math.max(0, options.staleAfterMs) / 1000;
  return withSystem(db, async (trx) => {
    const row = await trx
      .selectFrom("model_versions")
      .select([
        "id",
        "tenant_id",
        "model_id",
        "size_bytes",
        "sha256",
        "object_key",
        "status",
        "validation_attempts",
        "validation_started_at",
        // Seconds until the current claim goes stale (≤ 0: stale); null without a start time.
        sql<
          number | null
        >`extract(epoch from (validation_started_at + make_interval(secs => ${staleAfterSeconds}::float8) - now()))::float8`.as(
          "stale_in_seconds",
        ),
      ])
      .where("id", "=", versionId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return { kind: "missing" };
    if (row.status === "ready" || row.status === "rejected") return { kind: "done", status: row.status };
    if (row.status === "uploading") return { kind: "busy", status: row.status };

    let takenOverFrom: Date | null | undefined;
    if (row.status === "validating") {
      // A claim without a start time can only come from an instance older than migration 0004,
      // which is gone by now (the migration stamped the claims that existed then): stale.
      const staleIn = row.stale_in_seconds;
      if (staleIn !== null && staleIn > 0) {
        return { kind: "busy", status: row.status, retryAfterSeconds: Math.ceil(staleIn) };
      }
      if (row.validation_attempts >= options.maxAttempts) {
        const rejection = await rejectInTransaction(trx, {
          version: { id: row.id, tenantId: row.tenant_id, modelId: row.model_id },
          code: PROCESSING_ABANDONED,
          message: abandonedMessage(row.validation_attempts),
          source: options.source,
        });
        if (!rejection) throw new Error(`model version ${row.id} changed under its row lock`);
        return { kind: "abandoned", rejection };
      }
      takenOverFrom = row.validation_started_at;
    }

    const claimed = await trx
      .updateTable("model_versions")
      .set({
        status: "validating",
        validation_started_at: sql<Date>`now()`,
        validation_attempts: sql<number>`validation_attempts + 1`,
      })
      .where("id", "=", row.id)
      .returning("validation_attempts")
      .executeTakeFirstOrThrow();
    return {
      kind: "claimed",
      version: {
        id: row.id,
        tenantId: row.tenant_id,
        modelId: row.model_id,
        sizeBytes: Number(row.size_bytes),
        sha256: row.sha256,
        objectKey: row.object_key,
        attempt: claimed.validation_attempts,
      },
      ...(takenOverFrom === undefined ? {} : { takenOverFrom }),
    };
  });
}

/**
 * Whether the claim is still this one's (not overtaken as stale, not decided). Checked before work
 * whose result another owner would have to clean up, such as storing variant files.
 */
export async function holdsClaim(
  db: Kysely<Database>,
  version: Pick<ClaimedVersion, "id" | "attempt">,
): Promise<boolean> {
  const row = await withSystem(db, (trx) =>
    trx
      .selectFrom("model_versions")
      .select("id")
      .where("id", "=", version.id)
      .where("status", "=", "validating")
      .where("validation_attempts", "=", version.attempt)
      .executeTakeFirst(),
  );
  return row !== undefined;
}

/**
 * Gives a claimed version back (`validating` → `uploaded`) after an infrastructure failure, so the
 * broker's retry can claim it again. Only this claim: a verdict already written, or a newer claim
 * that took this one over, stays.
 */
export async function releaseVersion(
  db: Kysely<Database>,
  version: Pick<ClaimedVersion, "id" | "attempt">,
): Promise<void> {
  await withSystem(db, (trx) =>
    trx
      .updateTable("model_versions")
      .set({ status: "uploaded", validation_started_at: null })
      .where("id", "=", version.id)
      .where("status", "=", "validating")
      .where("validation_attempts", "=", version.attempt)
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
  /**
   * The claim was lost. `discardFiles`: nobody will use the variant keys the caller wrote (the
   * version is gone or rejected); otherwise a newer claim owns the same keys and may have written
   * them, so the caller must leave them.
   */
  | { recorded: false; discardFiles: boolean };

/**
 * Records the verdict `ready` with its signature and variants, adds the built variants' bytes to the
 * tenant's storage use, and writes `model.version.ready` to the outbox, in one transaction. Variants
 * that would take the tenant over its storage quota are left out (returned in `droppedForQuota` for
 * the caller to delete): the model itself is fine and stays servable in FP32.
 * Only by the claim's owner (`validating` with its attempt): `recorded: false` when the version moved
 * on (deleted, another verdict, or taken over as stale).
 *
 * @example
 * const r = await recordReady(db, { version, signature, notes, skippedVariants, variants, source });
 */
export async function recordReady(db: Kysely<Database>, input: ReadyInput): Promise<ReadyResult> {
  const { version } = input;
  return withSystem(db, async (trx) => {
    const current = await trx
      .selectFrom("model_versions")
      .select(["status", "validation_attempts"])
      .where("id", "=", version.id)
      .forUpdate()
      .executeTakeFirst();
    if (current?.status !== "validating" || current.validation_attempts !== version.attempt) {
      return { recorded: false, discardFiles: !current || current.status === "rejected" };
    }

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

/** A committed rejection, and the files it leaves for the caller to delete once it committed. */
export interface Rejection {
  event: MaasEvent;
  /** Bytes of the upload given back to the tenant's storage (`tenant_storage.used_bytes`). */
  releasedBytes: bigint;
  /** The uploaded original and any variant file an earlier, lost attempt may have stored. */
  objectKeys: string[];
}

/** Variant files the pipeline builds beside the original (fp32 is the original itself). */
const BUILT_VARIANTS = ["fp16", "int8"] as const;

/**
 * Records the verdict `rejected` with its reason, gives the upload's bytes back to the tenant's
 * storage, and writes `model.version.rejected` to the outbox, in one transaction; only by the claim's
 * owner (`validating` with its attempt). A rejected version is never served, so its files are
 * useless: the caller deletes `objectKeys` after the commit (a failed delete leaves an unaccounted
 * orphan for a sweeper, never bytes counted twice). Undefined when the version had moved on.
 *
 * @example
 * const r = await recordRejected(db, { version, code: "CHECKSUM_MISMATCH", message, source });
 * for (const key of r?.objectKeys ?? []) await store.delete(key);
 */
export async function recordRejected(
  db: Kysely<Database>,
  input: RejectInput & { version: Pick<ClaimedVersion, "attempt"> },
): Promise<Rejection | undefined> {
  return withSystem(db, (trx) => rejectInTransaction(trx, input, input.version.attempt));
}

/** The rejection itself, in the caller's transaction; `attempt` fences it to one claim. */
async function rejectInTransaction(
  trx: Transaction<Database>,
  input: RejectInput,
  attempt?: number,
): Promise<Rejection | undefined> {
  const { version } = input;
  let update = trx
    .updateTable("model_versions")
    .set({ status: "rejected", rejection_code: input.code, rejection_reason: input.message.slice(0, 4000) })
    .where("id", "=", version.id)
    .where("status", "=", "validating");
  if (attempt !== undefined) update = update.where("validation_attempts", "=", attempt);
  const rejected = await update.returning(["size_bytes", "object_key"]).executeTakeFirst();
  if (!rejected) return undefined;
  // The upload's bytes were counted at complete; the variants' only when a version became ready.
  await trx
    .updateTable("tenant_storage")
    .set({
      used_bytes: sql<bigint>`greatest(used_bytes - ${rejected.size_bytes.toString()}::bigint, 0)`,
      updated_at: new Date(),
    })
    .where("tenant_id", "=", version.tenantId)
    .execute();
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
  const ids = { tenantId: version.tenantId, modelId: version.modelId, versionId: version.id };
  return {
    event,
    releasedBytes: rejected.size_bytes,
    objectKeys: [
      rejected.object_key,
      ...BUILT_VARIANTS.map((variant) => objectKeys.modelVariant({ ...ids, variant })),
    ],
  };
}

export interface SweepOptions extends ClaimOptions {
  /** Versions handled per run (the oldest claims first). */
  limit: number;
}

export interface SweepResult {
  /** Stale claims given back (`uploaded`) with a fresh `model.version.uploaded` in the outbox. */
  requeued: string[];
  /** Stale claims that had used every attempt: rejected PROCESSING_ABANDONED. */
  abandoned: Rejection[];
}

/**
 * Finds claims whose instance died (older than the stale age) and gets them going again without
 * waiting for a delivery: the broker retries a failed delivery for seconds, and every retry finds the
 * claim still fresh (429), so the event is dead-lettered long before the claim goes stale. Each stale
 * claim is given back (`uploaded`) and a new `model.version.uploaded` goes to the outbox in the same
 * transaction; one that used every attempt is rejected PROCESSING_ABANDONED (the caller deletes the
 * rejections' `objectKeys` after the commit). Rows are locked with SKIP LOCKED, so concurrent sweeps
 * and deliveries never handle a version twice.
 *
 * @example
 * const { requeued, abandoned } = await sweepStaleClaims(db, { staleAfterMs, maxAttempts: 3, source, limit: 100 });
 */
export async function sweepStaleClaims(db: Kysely<Database>, options: SweepOptions): Promise<SweepResult> {
  const staleAfterSeconds = Math.max(0, options.staleAfterMs) / 1000;
  return withSystem(db, async (trx) => {
    const rows = await trx
      .selectFrom("model_versions")
      .select(["id", "tenant_id", "model_id", "size_bytes", "sha256", "object_key", "validation_attempts"])
      .where("status", "=", "validating")
      .where((eb) =>
        eb.or([
          eb("validation_started_at", "is", null),
          eb(
            "validation_started_at",
            "<",
            sql<Date>`now() - make_interval(secs => ${staleAfterSeconds}::float8)`,
          ),
        ]),
      )
      .orderBy("validation_started_at")
      .limit(options.limit)
      .forUpdate()
      .skipLocked()
      .execute();
    const result: SweepResult = { requeued: [], abandoned: [] };
    for (const row of rows) {
      const version = { id: row.id, tenantId: row.tenant_id, modelId: row.model_id };
      if (row.validation_attempts >= options.maxAttempts) {
        const rejection = await rejectInTransaction(trx, {
          version,
          code: PROCESSING_ABANDONED,
          message: abandonedMessage(row.validation_attempts),
          source: options.source,
        });
        if (rejection) result.abandoned.push(rejection);
        continue;
      }
      await trx
        .updateTable("model_versions")
        .set({ status: "uploaded", validation_started_at: null })
        .where("id", "=", row.id)
        .execute();
      const event = createEvent(events.modelVersionUploaded, {
        source: options.source,
        subject: row.id,
        data: {
          tenantId: row.tenant_id,
          modelId: row.model_id,
          versionId: row.id,
          objectKey: row.object_key,
          sizeBytes: Number(row.size_bytes),
          sha256: row.sha256,
          format: "onnx",
        },
      });
      await writeOutbox(trx, [event]);
      result.requeued.push(row.id);
    }
    return result;
  });
}

function abandonedMessage(attempts: number): string {
  return `validation was started ${attempts} times and every attempt stopped without a verdict (the pipeline instance processing the model was lost, e.g. killed for using too much memory); the model may be too large or too complex for the pipeline; reduce it (e.g. export FP16 weights) and push it again, or contact support with the version id`;
}
