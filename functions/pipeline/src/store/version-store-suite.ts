import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DbHandle, migrateToLatest, withSystem } from "@maas/db";
import { events } from "@maas/events";
import { FsObjectStore } from "@maas/storage";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedUploadedVersion, versionState } from "../testing/seed.js";
import {
  type ClaimOptions,
  type ClaimResult,
  claimVersion,
  holdsClaim,
  PROCESSING_ABANDONED,
  recordReady,
  recordRejected,
  releaseVersion,
  sweepStaleClaims,
} from "./version-store.js";

/**
 * The claim and rejection contract of the version store, run on PGlite (unit) and on a real
 * PostgreSQL (integration): the ages are computed by the database, whose parameter typing differs.
 */
export function describeVersionStore(engine: {
  name: string;
  open(): Promise<{ handle: DbHandle; dispose(): Promise<void> }>;
}): void {
  describe(`version store on ${engine.name}`, { timeout: 60_000 }, () => {
    let handle: DbHandle;
    let dispose: () => Promise<void>;
    let root: string;
    let store: FsObjectStore;

    beforeAll(async () => {
      ({ handle, dispose } = await engine.open());
      await migrateToLatest(handle.db);
      root = await mkdtemp(join(tmpdir(), "pipeline-claims-"));
      store = new FsObjectStore({ root });
    });

    afterAll(async () => {
      await dispose?.();
      if (root) await rm(root, { recursive: true, force: true });
    });

    const STALE_MS = 15 * 60_000;
    const options: ClaimOptions = { staleAfterMs: STALE_MS, maxAttempts: 3, source: "/test" };

    async function seed() {
      return seedUploadedVersion(handle.db, store, new Uint8Array(1000).fill(7));
    }

    /** Moves the current claim's start back, as if its instance had died that long ago. */
    async function ageClaim(versionId: string, ms: number): Promise<void> {
      await withSystem(handle.db, (trx) =>
        trx
          .updateTable("model_versions")
          .set({
            validation_started_at: sql<Date>`validation_started_at - make_interval(secs => ${ms / 1000}::float8)`,
          })
          .where("id", "=", versionId)
          .execute(),
      );
    }

    function claimed(result: ClaimResult) {
      if (result.kind !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(result)}`);
      return result;
    }

    describe("claimVersion", () => {
      it("claims an uploaded version once, stamping the start and counting the attempt", async () => {
        const v = await seed();
        const first = claimed(await claimVersion(handle.db, v.versionId, options));
        expect(first.version).toMatchObject({ id: v.versionId, attempt: 1, sizeBytes: 1000 });
        expect(first.takenOverFrom).toBeUndefined();
        const { version } = await versionState(handle.db, v.versionId);
        expect(version).toMatchObject({ status: "validating", validation_attempts: 1 });
        expect(version.validation_started_at).toBeInstanceOf(Date);
        expect(Math.abs(version.validation_started_at!.getTime() - Date.now())).toBeLessThan(60_000);
      });

      it("does not take over a fresh claim; says when it will go stale", async () => {
        const v = await seed();
        claimed(await claimVersion(handle.db, v.versionId, options));
        await ageClaim(v.versionId, STALE_MS - 60_000);
        const second = await claimVersion(handle.db, v.versionId, options);
        expect(second).toMatchObject({ kind: "busy", status: "validating" });
        // One minute left, give or take the test's own duration.
        expect(second.kind === "busy" && second.retryAfterSeconds).toBeGreaterThan(30);
        expect(second.kind === "busy" && second.retryAfterSeconds).toBeLessThanOrEqual(60);
        expect((await versionState(handle.db, v.versionId)).version.validation_attempts).toBe(1);
      });

      it("takes over a stale claim, and fences the presumed-dead owner out of every write", async () => {
        const v = await seed();
        const dead = claimed(await claimVersion(handle.db, v.versionId, options)).version;
        await ageClaim(v.versionId, STALE_MS + 1000);
        const before = (await versionState(handle.db, v.versionId)).version.validation_started_at;

        const takeover = claimed(await claimVersion(handle.db, v.versionId, options));
        expect(takeover.version.attempt).toBe(2);
        expect(takeover.takenOverFrom).toEqual(before);
        const after = (await versionState(handle.db, v.versionId)).version;
        expect(after).toMatchObject({ status: "validating", validation_attempts: 2 });
        expect(after.validation_started_at!.getTime()).toBeGreaterThan(before!.getTime());

        // The old owner wakes up: it holds nothing, and none of its writes lands.
        expect(await holdsClaim(handle.db, dead)).toBe(false);
        expect(await holdsClaim(handle.db, takeover.version)).toBe(true);
        await releaseVersion(handle.db, dead);
        expect(
          await recordRejected(handle.db, {
            version: dead,
            code: "INVALID_ONNX",
            message: "late",
            source: "/t",
          }),
        ).toBeUndefined();
        const late = await recordReady(handle.db, {
          version: dead,
          signature: { inputs: [], outputs: [], dynamicBatch: false } as never,
          notes: [],
          skippedVariants: [],
          variants: [],
          source: "/t",
        });
        // The new owner writes the same variant keys: the old one must leave them alone.
        expect(late).toEqual({ recorded: false, discardFiles: false });
        const state = await versionState(handle.db, v.versionId);
        expect(state.version).toMatchObject({ status: "validating", validation_attempts: 2 });
        expect(state.outbox).toEqual([]);
        expect(state.storage.used_bytes).toBe(1000n);
      });

      it("treats a validating claim without a start time (taken before migration 0004) as stale", async () => {
        const v = await seed();
        await withSystem(handle.db, (trx) =>
          trx
            .updateTable("model_versions")
            .set({ status: "validating", validation_started_at: null })
            .where("id", "=", v.versionId)
            .execute(),
        );
        const takeover = claimed(await claimVersion(handle.db, v.versionId, options));
        expect(takeover).toMatchObject({ takenOverFrom: null, version: { attempt: 1 } });
      });

      it("after the last allowed attempt went stale: rejected PROCESSING_ABANDONED, bytes released, announced", async () => {
        const v = await seed();
        const limited = { ...options, maxAttempts: 2 };
        claimed(await claimVersion(handle.db, v.versionId, limited));
        await ageClaim(v.versionId, STALE_MS + 1000);
        expect(claimed(await claimVersion(handle.db, v.versionId, limited)).version.attempt).toBe(2);
        // The second attempt is fresh: still busy, not abandoned.
        expect(await claimVersion(handle.db, v.versionId, limited)).toMatchObject({ kind: "busy" });
        await ageClaim(v.versionId, STALE_MS + 1000);

        const abandoned = await claimVersion(handle.db, v.versionId, limited);
        expect(abandoned.kind).toBe("abandoned");
        if (abandoned.kind !== "abandoned") return;
        expect(abandoned.rejection.releasedBytes).toBe(1000n);
        expect(abandoned.rejection.objectKeys).toEqual([
          v.objectKey,
          `tenants/${v.tenantId}/models/${v.modelId}/${v.versionId}/fp16.onnx`,
          `tenants/${v.tenantId}/models/${v.modelId}/${v.versionId}/int8.onnx`,
        ]);
        const { version, outbox, storage } = await versionState(handle.db, v.versionId);
        expect(version).toMatchObject({
          status: "rejected",
          rejection_code: PROCESSING_ABANDONED,
          validation_attempts: 2,
        });
        expect(version.rejection_reason).toMatch(
          /started 2 times and every attempt stopped without a verdict/,
        );
        expect(storage.used_bytes).toBe(0n);
        expect(outbox.map((o) => o.event)).toEqual([
          expect.objectContaining({
            type: events.modelVersionRejected.type,
            data: expect.objectContaining({ versionId: v.versionId, reason: PROCESSING_ABANDONED }),
          }),
        ]);
        // Terminal: later deliveries change nothing.
        expect(await claimVersion(handle.db, v.versionId, limited)).toEqual({
          kind: "done",
          status: "rejected",
        });
      });

      it("a release (infrastructure failure) makes the version claimable again at once, as the next attempt", async () => {
        const v = await seed();
        const first = claimed(await claimVersion(handle.db, v.versionId, options)).version;
        await releaseVersion(handle.db, first);
        expect((await versionState(handle.db, v.versionId)).version).toMatchObject({
          status: "uploaded",
          validation_started_at: null,
        });
        expect(claimed(await claimVersion(handle.db, v.versionId, options)).version.attempt).toBe(2);
      });

      it("answers missing, done and uploading without claiming", async () => {
        expect(await claimVersion(handle.db, "mver_nothere", options)).toEqual({ kind: "missing" });
        const v = await seed();
        await withSystem(handle.db, (trx) =>
          trx
            .updateTable("model_versions")
            .set({ status: "uploading" })
            .where("id", "=", v.versionId)
            .execute(),
        );
        expect(await claimVersion(handle.db, v.versionId, options)).toEqual({
          kind: "busy",
          status: "uploading",
        });
      });
    });

    describe("recordRejected", () => {
      it("releases the upload's bytes in the rejection's transaction and lists the files to delete", async () => {
        const v = await seed();
        // Another version's bytes stay counted.
        await withSystem(handle.db, (trx) =>
          trx
            .updateTable("tenant_storage")
            .set({ used_bytes: 5000 })
            .where("tenant_id", "=", v.tenantId)
            .execute(),
        );
        const version = claimed(await claimVersion(handle.db, v.versionId, options)).version;
        const rejection = await recordRejected(handle.db, {
          version,
          code: "CHECKSUM_MISMATCH",
          message: "bad bytes",
          source: "/t",
        });
        expect(rejection?.releasedBytes).toBe(1000n);
        expect(rejection?.objectKeys[0]).toBe(v.objectKey);
        const state = await versionState(handle.db, v.versionId);
        expect(state.version).toMatchObject({ status: "rejected", rejection_code: "CHECKSUM_MISMATCH" });
        expect(state.storage.used_bytes).toBe(4000n);
        expect(state.outbox).toHaveLength(1);

        // A second verdict for the same claim changes nothing: the bytes are released once.
        expect(
          await recordRejected(handle.db, { version, code: "INVALID_ONNX", message: "again", source: "/t" }),
        ).toBeUndefined();
        expect((await versionState(handle.db, v.versionId)).storage.used_bytes).toBe(4000n);
      });

      it("never takes used bytes below zero (counts drifted by hand)", async () => {
        const v = await seed();
        await withSystem(handle.db, (trx) =>
          trx
            .updateTable("tenant_storage")
            .set({ used_bytes: 10 })
            .where("tenant_id", "=", v.tenantId)
            .execute(),
        );
        const version = claimed(await claimVersion(handle.db, v.versionId, options)).version;
        await recordRejected(handle.db, { version, code: "INVALID_ONNX", message: "x", source: "/t" });
        expect((await versionState(handle.db, v.versionId)).storage.used_bytes).toBe(0n);
      });
    });

    describe("sweepStaleClaims", () => {
      it("requeues stale claims with a fresh event, abandons those out of attempts, leaves fresh ones", async () => {
        const stale = await seed();
        const exhausted = await seed();
        const fresh = await seed();
        claimed(await claimVersion(handle.db, stale.versionId, options));
        await ageClaim(stale.versionId, STALE_MS + 1000);
        for (let i = 0; i < options.maxAttempts; i++) {
          claimed(await claimVersion(handle.db, exhausted.versionId, options));
          await ageClaim(exhausted.versionId, STALE_MS + 1000);
        }
        claimed(await claimVersion(handle.db, fresh.versionId, options));

        const result = await sweepStaleClaims(handle.db, { ...options, limit: 1000 });
        expect(result.requeued).toContain(stale.versionId);
        expect(result.requeued).not.toContain(fresh.versionId);
        expect(result.abandoned.map((r) => r.event.subject)).toContain(exhausted.versionId);

        const requeued = await versionState(handle.db, stale.versionId);
        expect(requeued.version).toMatchObject({
          status: "uploaded",
          validation_attempts: 1,
          validation_started_at: null,
        });
        expect(requeued.outbox.map((o) => o.event)).toEqual([
          expect.objectContaining({
            type: events.modelVersionUploaded.type,
            data: {
              tenantId: stale.tenantId,
              modelId: stale.modelId,
              versionId: stale.versionId,
              objectKey: stale.objectKey,
              sizeBytes: 1000,
              sha256: stale.sha256,
              format: "onnx",
            },
          }),
        ]);
        // The requeued event's delivery claims it as the next attempt.
        expect(claimed(await claimVersion(handle.db, stale.versionId, options)).version.attempt).toBe(2);

        const gaveUp = await versionState(handle.db, exhausted.versionId);
        expect(gaveUp.version).toMatchObject({ status: "rejected", rejection_code: PROCESSING_ABANDONED });
        expect(gaveUp.storage.used_bytes).toBe(0n);
        expect(gaveUp.outbox.map((o) => (o.event as { type: string }).type)).toEqual([
          events.modelVersionRejected.type,
        ]);

        const untouched = await versionState(handle.db, fresh.versionId);
        expect(untouched.version).toMatchObject({ status: "validating", validation_attempts: 1 });
        expect(untouched.outbox).toEqual([]);

        // Nothing stale is left: a second sweep does nothing to these versions.
        const again = await sweepStaleClaims(handle.db, { ...options, limit: 1000 });
        for (const id of [stale.versionId, exhausted.versionId, fresh.versionId]) {
          expect(again.requeued).not.toContain(id);
          expect(again.abandoned.map((r) => r.event.subject)).not.toContain(id);
        }
      });
    });
  });
}
