import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, type DbHandle, migrateToLatest, withSystem } from "@maas/db";
import { encodeHttpBinary, events, type MaasEvent } from "@maas/events";
import { encodeModel, zoo } from "@maas/onnx";
import { captureLogger } from "@maas/runtime/testing";
import { FsObjectStore } from "@maas/storage";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipeline } from "../app.js";
import { claimVersion } from "../store/version-store.js";
import { seedUploadedVersion, versionState } from "../testing/seed.js";
import { scheduleStaleClaimSweep } from "./stale-claim-sweep.js";

let handle: DbHandle;
let root: string;
let store: FsObjectStore;

beforeAll(async () => {
  handle = createDb();
  await migrateToLatest(handle.db);
  root = await mkdtemp(join(tmpdir(), "pipeline-sweep-"));
  store = new FsObjectStore({ root });
}, 60_000);

afterAll(async () => {
  await handle?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const STALE_MS = 60_000;
const claimOptions = { staleAfterMs: STALE_MS, maxAttempts: 2, source: "/test" };

/** A claim left by an instance that died `STALE_MS` + 5 s ago. */
async function deadClaim(versionId: string): Promise<void> {
  expect((await claimVersion(handle.db, versionId, claimOptions)).kind).toBe("claimed");
  await withSystem(handle.db, (trx) =>
    trx
      .updateTable("model_versions")
      .set({
        validation_started_at: sql<Date>`now() - make_interval(secs => ${(STALE_MS + 5000) / 1000}::float8)`,
      })
      .where("id", "=", versionId)
      .execute(),
  );
}

function sweeper(logger = captureLogger()) {
  let woken = 0;
  const sweep = scheduleStaleClaimSweep({
    db: handle.db,
    store,
    logger: logger.logger,
    intervalMs: 3_600_000,
    ...claimOptions,
    limit: 100,
    onCommitted: () => {
      woken++;
    },
  });
  return { sweep, lines: logger.lines, woken: () => woken };
}

describe("stale claim sweep", { timeout: 30_000 }, () => {
  it("requeues a dead instance's claim; the requeued event's delivery gives the verdict", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()));
    await deadClaim(v.versionId);
    const { sweep, lines, woken } = sweeper();
    try {
      const result = await sweep.runOnce();
      expect(result?.requeued).toContain(v.versionId);
      expect(woken()).toBe(1);
      expect(lines.find((l) => l.msg?.startsWith("stale validation claims swept"))).toMatchObject({
        level: "warn",
      });
    } finally {
      await sweep.stop();
    }

    // What the outbox relay would deliver.
    const { outbox } = await versionState(handle.db, v.versionId);
    expect(outbox).toHaveLength(1);
    const requeued = outbox[0]!.event as unknown as MaasEvent;
    expect(requeued.type).toBe(events.modelVersionUploaded.type);
    const fn = createPipeline(
      { logger: captureLogger().logger },
      { db: handle.db, store, staleClaimMs: STALE_MS },
    );
    const m = encodeHttpBinary(requeued);
    expect((await fn.app.request("/", { method: "POST", headers: m.headers, body: m.body })).status).toBe(
      202,
    );
    expect((await versionState(handle.db, v.versionId)).version).toMatchObject({
      status: "ready",
      validation_attempts: 2,
    });
  });

  it("rejects a version out of attempts and deletes its files after the commit", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()));
    await deadClaim(v.versionId);
    await deadClaim(v.versionId);
    const { sweep } = sweeper();
    try {
      const result = await sweep.runOnce();
      expect(result?.abandoned.map((r) => r.event.subject)).toContain(v.versionId);
    } finally {
      await sweep.stop();
    }
    const { version, storage } = await versionState(handle.db, v.versionId);
    expect(version).toMatchObject({ status: "rejected", rejection_code: "PROCESSING_ABANDONED" });
    expect(storage.used_bytes).toBe(0n);
    expect(await store.head(v.objectKey)).toBeNull();
  });

  it("a failing run is logged, never thrown out of the timer", async () => {
    const closed = createDb();
    await closed.close();
    const logger = captureLogger();
    const sweep = scheduleStaleClaimSweep({
      db: closed.db,
      store,
      logger: logger.logger,
      intervalMs: 3_600_000,
      ...claimOptions,
      limit: 100,
    });
    expect(await sweep.runOnce()).toBeUndefined();
    await sweep.stop();
    expect(logger.lines.find((l) => l.msg === "stale claim sweep failed")).toMatchObject({ level: "error" });
  });
});
