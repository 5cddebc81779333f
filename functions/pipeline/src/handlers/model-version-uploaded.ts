import { createHash } from "node:crypto";
import { AppError } from "@maas/errors";
import { events, type MaasEvent } from "@maas/events";
import { type EventHandler, type Logger, NonRetriableError, RetryAfterError } from "@maas/runtime";
import { objectKeys } from "@maas/storage";
import { ProcessingFailedError } from "../process/run-in-worker.js";
import type { Accepted } from "../process/types.js";
import { type PipelineServices, type ResolvedServices, resolveServices } from "../services.js";
import {
  type ClaimedVersion,
  claimVersion,
  holdsClaim,
  PROCESSING_ABANDONED,
  type Rejection,
  recordReady,
  recordRejected,
  releaseVersion,
  type VariantRecord,
} from "../store/version-store.js";
import { readVerified } from "../verify/read-verified.js";

/** How long a delivery that finds the version busy asks the broker to wait. */
const BUSY_RETRY_SECONDS = 30;

type Verdict = { kind: "rejected"; code: string; message: string } | { kind: "accepted"; outcome: Accepted };

/**
 * `io.maas.model.version.uploaded.v1`: verify the upload (size and SHA-256 while streaming), parse
 * and validate it, build and check the FP16 and INT8 variants in a worker thread, store them, and
 * record `ready` or `rejected` with its event in one transaction.
 *
 * Idempotent on the event and on the state: the version is claimed (`uploaded` → `validating`) under
 * a row lock, so a redelivery of the same event (or a second event for the version) finds it
 * `validating` (429, retried later), `ready` or `rejected` (202, nothing changes). A bad model is a
 * verdict (202); a store or database failure gives the claim back and fails with 5xx so the broker
 * retries. A claim whose instance died mid-run goes stale (`staleClaimMs`) and the next delivery takes
 * it over; after `maxValidationAttempts` the version is rejected (PROCESSING_ABANDONED) instead.
 * A rejected version's files are deleted and its bytes given back to the tenant's storage.
 *
 * @example
 * createFunction({ name: "pipeline", events: { [events.modelVersionUploaded.type]: modelVersionUploadedHandler(services) } });
 */
export function modelVersionUploadedHandler(services: PipelineServices): EventHandler {
  const s = resolveServices(services);
  let running = 0;
  return async (event, { logger }) => {
    if (running >= s.maxConcurrent) {
      throw new RetryAfterError(`the pipeline is processing ${running} model(s) already`, BUSY_RETRY_SECONDS);
    }
    running++;
    try {
      await handle(s, event, logger);
    } finally {
      running--;
    }
  };
}

async function handle(s: ResolvedServices, event: MaasEvent, logger: Logger): Promise<void> {
  const data = events.modelVersionUploaded.data.parse(event.data);
  const claim = await claimVersion(s.db, data.versionId, {
    staleAfterMs: s.staleClaimMs,
    maxAttempts: s.maxValidationAttempts,
    source: s.source,
  });
  switch (claim.kind) {
    case "missing":
      logger.warn({ versionId: data.versionId }, "model version no longer exists; nothing to do");
      return;
    case "done":
      logger.info({ versionId: data.versionId, status: claim.status }, "model version already has a verdict");
      return;
    case "busy":
      if (claim.status === "validating") {
        // Retrying sooner is pointless: the owner either gives its verdict (the retry is then a no-op)
        // or dies, and its claim can be taken over only once it is stale.
        throw new RetryAfterError(
          `model version ${data.versionId} is being validated by another delivery`,
          claim.retryAfterSeconds ?? BUSY_RETRY_SECONDS,
        );
      }
      throw new NonRetriableError(`model version ${data.versionId} is ${claim.status}, not uploaded`);
    case "abandoned":
      logger.warn(
        {
          versionId: data.versionId,
          reason: PROCESSING_ABANDONED,
          releasedBytes: Number(claim.rejection.releasedBytes),
        },
        "model version rejected: every validation attempt was lost",
      );
      await deleteRejectedFiles(s, claim.rejection, logger);
      s.onCommitted?.();
      return;
    case "claimed":
      if (claim.takenOverFrom !== undefined) {
        logger.warn(
          { versionId: data.versionId, attempt: claim.version.attempt, staleSince: claim.takenOverFrom },
          "took over a stale validation claim (the instance holding it is presumed dead)",
        );
      }
      break;
  }
  const version = claim.version;
  if (version.tenantId !== data.tenantId || version.modelId !== data.modelId) {
    await releaseVersion(s.db, version);
    throw new NonRetriableError(
      `event names tenant ${data.tenantId} / model ${data.modelId}, but version ${version.id} belongs to ${version.tenantId} / ${version.modelId}`,
    );
  }

  const started = performance.now();
  let verdict: Verdict;
  let rejection: Rejection | undefined;
  try {
    verdict = await judge(s, version);
    if (verdict.kind === "rejected") {
      rejection = await recordRejected(s.db, {
        version,
        code: verdict.code,
        message: verdict.message,
        source: s.source,
      });
      logger.info(
        {
          versionId: version.id,
          reason: verdict.code,
          recorded: rejection !== undefined,
          releasedBytes: rejection ? Number(rejection.releasedBytes) : 0,
          ms: elapsed(started),
        },
        `model version rejected: ${verdict.message}`,
      );
    } else {
      await storeAndRecordReady(s, version, verdict.outcome, logger, started);
    }
  } catch (error) {
    // Infrastructure failure: give the claim back so the broker's retry can take it.
    await releaseVersion(s.db, version).catch((releaseError: unknown) =>
      logger.error(
        { err: releaseError, versionId: version.id },
        "could not release the claim; the version stays validating",
      ),
    );
    throw error;
  }
  s.onCommitted?.();
  if (rejection) await deleteRejectedFiles(s, rejection, logger);
}

/**
 * After the rejection committed (its bytes already released): a file deleted before the commit could
 * be gone while the version still counted it; a file left behind by a failed delete is only an
 * unaccounted orphan under the version's prefix, for a sweeper of rejected versions to remove.
 */
async function deleteRejectedFiles(s: ResolvedServices, rejection: Rejection, logger: Logger): Promise<void> {
  for (const objectKey of rejection.objectKeys) {
    await s.store
      .delete(objectKey)
      .catch((err: unknown) =>
        logger.warn({ err, objectKey }, "could not delete a rejected version's file; left for a sweeper"),
      );
  }
}

/** Size, checksum, then the worker: a verdict, or a throw for failures worth retrying. */
async function judge(s: ResolvedServices, version: ClaimedVersion): Promise<Verdict> {
  if (version.sizeBytes > s.maxModelBytes) {
    return {
      kind: "rejected",
      code: "MODEL_TOO_LARGE",
      message: `the model is ${version.sizeBytes} bytes; the pipeline validates models of up to ${s.maxModelBytes} bytes (${mib(s.maxModelBytes)} MiB) in memory; reduce the model (e.g. export FP16 weights) and push it again`,
    };
  }
  let read: Awaited<ReturnType<typeof readVerified>>;
  try {
    read = await readVerified(s.store, version.objectKey, {
      sizeBytes: version.sizeBytes,
      sha256: version.sha256,
    });
  } catch (error) {
    if (error instanceof AppError && error.code === "NOT_FOUND") {
      return {
        kind: "rejected",
        code: "OBJECT_MISSING",
        message: `the uploaded file is not in storage (${version.objectKey}); push the file again`,
      };
    }
    throw error;
  }
  if (!read.ok) return { kind: "rejected", code: read.code, message: read.message };
  try {
    const outcome = await s.processor(read.bytes, s.processOptions);
    return outcome.ok
      ? { kind: "accepted", outcome }
      : { kind: "rejected", code: outcome.code, message: outcome.message };
  } catch (error) {
    // The same bytes would crash or hang again: a verdict, not a retry.
    if (error instanceof ProcessingFailedError) {
      return {
        kind: "rejected",
        code: error.code,
        message: `the pipeline could not process the model: ${error.message}; if the model loads in onnxruntime locally, contact support with the version id`,
      };
    }
    throw error;
  }
}

async function storeAndRecordReady(
  s: ResolvedServices,
  version: ClaimedVersion,
  outcome: Accepted,
  logger: Logger,
  started: number,
): Promise<void> {
  const records: VariantRecord[] = [
    { variant: "fp32", objectKey: version.objectKey, sizeBytes: version.sizeBytes, sha256: version.sha256 },
  ];
  // Overtaken while processing (presumed dead after a long stall): the new owner writes these keys.
  if (!(await holdsClaim(s.db, version))) {
    logger.warn(
      { versionId: version.id, attempt: version.attempt, ms: elapsed(started) },
      "the validation claim was taken over while processing; result discarded",
    );
    return;
  }
  // Stored before the verdict commits: a crash in between leaves files a retry overwrites in place.
  for (const built of outcome.variants) {
    const objectKey = objectKeys.modelVariant({
      tenantId: version.tenantId,
      modelId: version.modelId,
      versionId: version.id,
      variant: built.variant,
    });
    await s.store.put(objectKey, built.bytes, {
      contentLength: built.bytes.byteLength,
      contentType: "application/octet-stream",
    });
    records.push({
      ...built.figures,
      variant: built.variant,
      objectKey,
      sizeBytes: built.bytes.byteLength,
      sha256: createHash("sha256").update(built.bytes).digest("hex"),
      rewrite: built.rewrite,
    });
  }
  const result = await recordReady(s.db, {
    version,
    signature: outcome.signature,
    notes: outcome.notes,
    skippedVariants: outcome.skipped,
    variants: records,
    source: s.source,
  });
  const stored = records.filter((r) => r.variant !== "fp32");
  const orphans = result.recorded ? result.droppedForQuota : result.discardFiles ? stored : [];
  for (const orphan of orphans) {
    await s.store
      .delete(orphan.objectKey)
      .catch((err: unknown) =>
        logger.warn({ err, objectKey: orphan.objectKey }, "could not delete an unused variant file"),
      );
  }
  logger.info(
    {
      versionId: version.id,
      recorded: result.recorded,
      variants: (result.recorded ? result.variants : []).map(
        ({ variant, sizeBytes, sizeRatio, maxAbsError, top1Agreement, latencyRatio }) => ({
          variant,
          sizeBytes,
          sizeRatio,
          maxAbsError,
          top1Agreement,
          latencyRatio,
        }),
      ),
      skipped: outcome.skipped.map((v) => `${v.variant}: ${v.reason}`),
      timingsMs: outcome.timingsMs,
      ms: elapsed(started),
    },
    result.recorded ? "model version ready" : "model version moved on while processing; variants discarded",
  );
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

function mib(bytes: number): number {
  return Math.round(bytes / (1024 * 1024));
}
