import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createDb, type DbHandle, migrateToLatest, withSystem } from "@maas/db";
import { AppError } from "@maas/errors";
import { encodeHttpBinary, events, type MaasEvent } from "@maas/events";
import {
  buildModel,
  ElemType,
  encodeModel,
  fillNormal,
  floatTensor,
  node,
  seededRandom,
  tensorInfo,
  zoo,
} from "@maas/onnx";
import type { MaasFunction } from "@maas/runtime";
import { captureLogger } from "@maas/runtime/testing";
import { FsObjectStore, type ObjectStore } from "@maas/storage";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipeline } from "../app.js";
import type { PipelineServices } from "../services.js";
import { claimVersion } from "../store/version-store.js";
import { seedUploadedVersion, versionState } from "../testing/seed.js";

let handle: DbHandle;
let root: string;
let store: FsObjectStore;

beforeAll(async () => {
  handle = createDb();
  await migrateToLatest(handle.db);
  root = await mkdtemp(join(tmpdir(), "pipeline-unit-"));
  store = new FsObjectStore({ root });
}, 60_000);

afterAll(async () => {
  await handle?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

function pipeline(services: Partial<PipelineServices> = {}) {
  const { logger, lines } = captureLogger();
  const fn = createPipeline({ logger }, { db: handle.db, store, ...services });
  return { fn, lines };
}

function post(fn: MaasFunction, event: MaasEvent) {
  const m = encodeHttpBinary(event);
  return fn.app.request("/", { method: "POST", headers: m.headers, body: m.body });
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

interface StoredVariant {
  variant: string;
  objectKey: string;
  sizeBytes: number;
  sha256: string;
  sizeRatio?: number;
  maxAbsError?: number;
  top1Agreement?: number;
  latencyRatio?: number;
}

// Each case spawns a worker and builds sessions; the shared machine can be slow.
describe("model.version.uploaded → ready", { timeout: 30_000 }, () => {
  it("MLP classifier: ready with its signature, FP16 and INT8 stored, counted and announced", async () => {
    const bytes = encodeModel(zoo.mlpClassifier());
    const v = await seedUploadedVersion(handle.db, store, bytes);
    const { fn } = pipeline();
    const res = await post(fn, v.uploadedEvent());
    expect(res.status).toBe(202);

    const { version, outbox, storage } = await versionState(handle.db, v.versionId);
    expect(version.status).toBe("ready");
    expect(version.ready_at).toBeInstanceOf(Date);
    expect(version.signature).toMatchObject({
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 64] }],
      outputs: [{ name: "probabilities", datatype: "FP32", shape: [-1, 10] }],
      dynamicBatch: true,
    });
    const variants = version.variants as StoredVariant[];
    expect(variants.map((x) => x.variant)).toEqual(["fp32", "fp16", "int8"]);
    expect(variants[0]).toEqual({
      variant: "fp32",
      objectKey: v.objectKey,
      sizeBytes: bytes.byteLength,
      sha256: v.sha256,
    });
    const [, fp16, int8] = variants as [StoredVariant, StoredVariant, StoredVariant];
    expect(fp16.objectKey).toBe(`tenants/${v.tenantId}/models/${v.modelId}/${v.versionId}/fp16.onnx`);
    expect(int8.objectKey).toBe(`tenants/${v.tenantId}/models/${v.modelId}/${v.versionId}/int8.onnx`);
    expect(fp16.sizeRatio).toBeGreaterThan(0.45);
    expect(fp16.sizeRatio).toBeLessThan(0.55);
    expect(int8.sizeRatio).toBeGreaterThan(0.25);
    expect(int8.sizeRatio).toBeLessThan(0.35);
    for (const variant of [fp16, int8]) {
      expect(variant.top1Agreement).toBeGreaterThanOrEqual(0.98);
      expect(variant.latencyRatio).toBeGreaterThan(0);
      // What was stored is what the row says.
      const stored = await readAll(await store.getStream(variant.objectKey));
      expect(stored.byteLength).toBe(variant.sizeBytes);
      expect(sha(stored)).toBe(variant.sha256);
    }
    // Variant bytes count toward the tenant's storage; the upload itself was counted at complete.
    expect(storage.used_bytes).toBe(BigInt(bytes.byteLength + fp16.sizeBytes + int8.sizeBytes));

    expect(outbox).toHaveLength(1);
    const event = outbox[0]!.event as { type: string; data: { variants: unknown[]; signature: unknown } };
    expect(event.type).toBe(events.modelVersionReady.type);
    expect(event.data.variants).toEqual(
      variants.map(({ variant, objectKey, sizeBytes, sha256 }) => ({
        variant,
        objectKey,
        sizeBytes,
        sha256,
      })),
    );
    expect(events.modelVersionReady.data.safeParse(event.data).success).toBe(true);
  });

  it.each([
    [
      "small CNN",
      () => zoo.smallCnn(),
      {
        inputs: [{ name: "image", datatype: "FP32", shape: [-1, 1, 28, 28] }],
        outputs: [{ name: "logits", datatype: "FP32", shape: [-1, 10] }],
        dynamicBatch: true,
      },
    ],
    [
      "two-input",
      () => zoo.twoInput(),
      {
        inputs: [
          { name: "a", datatype: "FP32", shape: [-1, 32] },
          { name: "b", datatype: "FP32", shape: [-1, 32] },
        ],
        outputs: [{ name: "output", datatype: "FP32", shape: [-1, 16] }],
        dynamicBatch: true,
      },
    ],
    [
      "fixed batch",
      () => zoo.fixedBatch(),
      {
        inputs: [{ name: "input", datatype: "FP32", shape: [1, 16] }],
        outputs: [{ name: "output", datatype: "FP32", shape: [1, 8] }],
        dynamicBatch: false,
      },
    ],
  ] as const)("%s: ready with the right signature", async (_name, build, signature) => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(build()));
    const { fn } = pipeline();
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version, outbox } = await versionState(handle.db, v.versionId);
    expect(version.status).toBe("ready");
    expect(version.signature).toMatchObject(signature);
    const variants = version.variants as StoredVariant[];
    expect(variants[0]?.variant).toBe("fp32");
    expect(variants.some((x) => x.variant === "fp16")).toBe(true);
    expect(outbox.map((o) => (o.event as { type: string }).type)).toEqual([events.modelVersionReady.type]);
  });

  it("fixed batch: the INT8 file would be bigger than FP32, so it is not stored and the reason is kept", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.fixedBatch()));
    const { fn } = pipeline();
    await post(fn, v.uploadedEvent());
    const { version } = await versionState(handle.db, v.versionId);
    expect((version.variants as StoredVariant[]).map((x) => x.variant)).toEqual(["fp32", "fp16"]);
    const skipped = (version.signature as { skippedVariants: { variant: string; reason: string }[] })
      .skippedVariants;
    expect(skipped).toEqual([
      { variant: "int8", reason: expect.stringContaining("of the FP32 size"), figures: expect.any(Object) },
    ]);
    expect(await store.head(`tenants/${v.tenantId}/models/${v.modelId}/${v.versionId}/int8.onnx`)).toBeNull();
  });

  it("variants that would exceed the storage quota are left out; the version is still ready", async () => {
    const bytes = encodeModel(zoo.mlpClassifier());
    // Room for the upload and the INT8 file (~31%), not for FP16 (~50%) as well.
    const v = await seedUploadedVersion(handle.db, store, bytes, {
      maxStorageBytes: Math.round(bytes.byteLength * 1.4),
    });
    const { fn } = pipeline();
    await post(fn, v.uploadedEvent());
    const { version, storage } = await versionState(handle.db, v.versionId);
    expect(version.status).toBe("ready");
    const variants = version.variants as StoredVariant[];
    expect(variants.map((x) => x.variant)).toEqual(["fp32", "int8"]);
    expect(storage.used_bytes).toBe(BigInt(bytes.byteLength + variants[1]!.sizeBytes));
    const skipped = (version.signature as { skippedVariants: { variant: string; reason: string }[] })
      .skippedVariants;
    expect(skipped).toContainEqual({ variant: "fp16", reason: expect.stringContaining("storage quota") });
    expect(await store.head(`tenants/${v.tenantId}/models/${v.modelId}/${v.versionId}/fp16.onnx`)).toBeNull();
  });
});

describe("model.version.uploaded → rejected", { timeout: 30_000 }, () => {
  it("a file that is not ONNX: rejected with INVALID_ONNX, announced, nothing stored", async () => {
    const v = await seedUploadedVersion(handle.db, store, zoo.invalidModelBytes());
    const { fn } = pipeline();
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version, outbox, storage } = await versionState(handle.db, v.versionId);
    expect(version).toMatchObject({
      status: "rejected",
      rejection_code: "INVALID_ONNX",
      signature: null,
      variants: [],
    });
    expect(version.rejection_reason).toMatch(/not an ONNX protobuf.*push it again/);
    // A rejected upload is never served: its bytes are given back and its file deleted.
    expect(storage.used_bytes).toBe(0n);
    expect(await store.head(v.objectKey)).toBeNull();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]!.event).toMatchObject({
      type: events.modelVersionRejected.type,
      data: { versionId: v.versionId, reason: "INVALID_ONNX", message: version.rejection_reason },
    });
  });

  it("a checksum mismatch: rejected with both hashes in a message a person can act on", async () => {
    const bytes = encodeModel(zoo.mlpClassifier());
    const declared = "0".repeat(64);
    const v = await seedUploadedVersion(handle.db, store, bytes, { sha256: declared });
    const { fn } = pipeline();
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version, outbox } = await versionState(handle.db, v.versionId);
    expect(version.status).toBe("rejected");
    expect(version.rejection_code).toBe("CHECKSUM_MISMATCH");
    expect(version.rejection_reason).toBe(
      `the uploaded bytes hash to ${sha(bytes)}, the upload declared ${declared}; push the file again`,
    );
    expect(outbox[0]!.event).toMatchObject({ data: { reason: "CHECKSUM_MISMATCH" } });
  });

  it.each([
    ["shorter", 10, "the stored object is 4086 bytes, the upload declared 4096"],
    ["longer", -10, "larger than the 4096 bytes the upload declared"],
  ])("an object %s than declared: SIZE_MISMATCH", async (_name, cut, message) => {
    const declared = zoo.invalidModelBytes(6, 4096);
    const stored = cut > 0 ? declared.subarray(0, 4096 - cut) : new Uint8Array(4096 - cut);
    const v = await seedUploadedVersion(handle.db, store, stored, { sizeBytes: 4096, sha256: sha(declared) });
    const { fn } = pipeline();
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version } = await versionState(handle.db, v.versionId);
    expect(version).toMatchObject({ status: "rejected", rejection_code: "SIZE_MISMATCH" });
    expect(version.rejection_reason).toContain(message);
  });

  it("a model over the size limit: MODEL_TOO_LARGE naming the limit, without reading it", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.mlpClassifier()));
    const { fn } = pipeline({ maxModelBytes: 50_000 });
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version } = await versionState(handle.db, v.versionId);
    expect(version).toMatchObject({ status: "rejected", rejection_code: "MODEL_TOO_LARGE" });
    expect(version.rejection_reason).toContain(`the model is ${v.sizeBytes} bytes`);
    expect(version.rejection_reason).toContain("up to 50000 bytes");
  });

  it("an object missing from storage: OBJECT_MISSING", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()), { skipObject: true });
    const { fn } = pipeline();
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version } = await versionState(handle.db, v.versionId);
    expect(version).toMatchObject({ status: "rejected", rejection_code: "OBJECT_MISSING" });
  });

  it("a model that fails validation: the problem's code and every message", async () => {
    const model = zoo.twoInput();
    model.opsetImport = [{ domain: "", version: 99 }];
    const v = await seedUploadedVersion(handle.db, store, encodeModel(model));
    const { fn } = pipeline();
    await post(fn, v.uploadedEvent());
    const { version } = await versionState(handle.db, v.versionId);
    expect(version).toMatchObject({ status: "rejected", rejection_code: "OPSET_TOO_NEW" });
    expect(version.rejection_reason).toContain("opset 99 is newer than the supported range");
  });

  it("a processor that crashes: PROCESSING_FAILED, never retried forever", async () => {
    const { ProcessingFailedError } = await import("../process/run-in-worker.js");
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()));
    const { fn } = pipeline({
      processor: async () => {
        throw new ProcessingFailedError("PROCESSING_FAILED", "the processing worker exited with code 134");
      },
    });
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version } = await versionState(handle.db, v.versionId);
    expect(version).toMatchObject({ status: "rejected", rejection_code: "PROCESSING_FAILED" });
  });
});

describe("idempotency and failures", { timeout: 30_000 }, () => {
  it("a redelivered event (same id) and a second event for a decided version change nothing", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()));
    const { fn, lines } = pipeline();
    const event = v.uploadedEvent();
    expect((await post(fn, event)).status).toBe(202);
    const before = await versionState(handle.db, v.versionId);
    expect(before.version.status).toBe("ready");

    expect((await post(fn, event)).status).toBe(202);
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const after = await versionState(handle.db, v.versionId);
    expect(after).toEqual(before);
    expect(lines.filter((l) => l.msg === "model version already has a verdict")).toHaveLength(2);
  });

  it("a rejected version stays rejected on redelivery", async () => {
    const v = await seedUploadedVersion(handle.db, store, zoo.invalidModelBytes());
    const { fn } = pipeline();
    const event = v.uploadedEvent();
    await post(fn, event);
    const before = await versionState(handle.db, v.versionId);
    expect((await post(fn, event)).status).toBe(202);
    expect(await versionState(handle.db, v.versionId)).toEqual(before);
  });

  it("two concurrent deliveries: one works, the other is told to retry later (429), one verdict", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.mlpClassifier()));
    // Two instances (maxConcurrent is per instance), as two pods would be.
    const a = pipeline();
    const b = pipeline();
    const event = v.uploadedEvent();
    const statuses = (await Promise.all([post(a.fn, event), post(b.fn, event)])).map((r) => r.status).sort();
    expect(statuses).toEqual([202, 429]);
    const { version, outbox } = await versionState(handle.db, v.versionId);
    expect(version.status).toBe("ready");
    expect(outbox).toHaveLength(1);
  });

  it("a busy instance answers 429 with Retry-After instead of queueing models in memory", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { processModel } = await import("../process/process-model.js");
    const { fn } = pipeline({
      processor: async (bytes, options) => {
        await gate;
        return processModel(bytes, options);
      },
    });
    const first = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()));
    const second = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()));
    const pending = post(fn, first.uploadedEvent());
    await waitFor(
      async () => (await versionState(handle.db, first.versionId)).version.status === "validating",
    );
    const busy = await post(fn, second.uploadedEvent());
    expect(busy.status).toBe(429);
    expect(busy.headers.get("retry-after")).toBe("30");
    expect((await versionState(handle.db, second.versionId)).version.status).toBe("uploaded");
    release();
    expect((await pending).status).toBe(202);
  });

  it("the object store down: 5xx for the broker to retry, the claim given back, and the retry succeeds", async () => {
    const bytes = encodeModel(zoo.twoInput());
    const v = await seedUploadedVersion(handle.db, store, bytes);
    const down: ObjectStore = Object.create(store, {
      getStream: {
        value: async () => {
          throw new AppError("UPSTREAM_UNAVAILABLE", "object store unreachable");
        },
      },
    });
    const broken = pipeline({ store: down });
    const event = v.uploadedEvent();
    const res = await broken.fn.app.request("/", {
      method: "POST",
      headers: encodeHttpBinary(event).headers,
      body: encodeHttpBinary(event).body,
    });
    expect(res.status).toBe(502);
    const { version, outbox } = await versionState(handle.db, v.versionId);
    expect(version.status).toBe("uploaded");
    expect(outbox).toHaveLength(0);

    const { fn } = pipeline();
    expect((await post(fn, event)).status).toBe(202);
    expect((await versionState(handle.db, v.versionId)).version.status).toBe("ready");
  });

  it("an event for a version that no longer exists is accepted and changes nothing", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()));
    const { fn, lines } = pipeline();
    const event = v.uploadedEvent();
    const { withSystem } = await import("@maas/db");
    await withSystem(handle.db, (trx) =>
      trx.deleteFrom("model_versions").where("id", "=", v.versionId).execute(),
    );
    expect((await post(fn, event)).status).toBe(202);
    expect(lines.some((l) => l.msg === "model version no longer exists; nothing to do")).toBe(true);
  });

  it("keeps the event loop free while a model is processed (worker thread), unlike processing inline", async () => {
    // A 16 MB weight: parsing, the rewrites and session creation each block a thread for a while.
    const bytes = encodeModel(
      buildModel({
        name: "wide",
        nodes: [node("MatMul", ["input", "w"], ["output"])],
        initializers: [
          floatTensor("w", [2048, 2048], fillNormal(new Float32Array(2048 * 2048), seededRandom(3), 0.02)),
        ],
        inputs: [tensorInfo("input", ElemType.FLOAT, ["batch", 2048])],
        outputs: [tensorInfo("output", ElemType.FLOAT, ["batch", 2048])],
      }),
    );
    const { DEFAULT_PROCESS_OPTIONS, processModel } = await import("../process/process-model.js");
    const options = { ...DEFAULT_PROCESS_OPTIONS, samples: 20, latencyRuns: 5 };
    const maxLoopDelayMs = async (work: () => Promise<unknown>) => {
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      await work();
      delay.disable();
      return delay.max / 1e6;
    };

    const inline = await maxLoopDelayMs(() => processModel(new Uint8Array(bytes), options));
    const v = await seedUploadedVersion(handle.db, store, bytes);
    const { fn } = pipeline({ processOptions: options });
    let health = 0;
    const worker = await maxLoopDelayMs(async () => {
      const res = post(fn, v.uploadedEvent());
      // Health checks answer while the worker computes.
      await waitFor(async () => (await versionState(handle.db, v.versionId)).version.status === "validating");
      health = (await fn.app.request("/healthz")).status;
      expect((await res).status).toBe(202);
    });
    console.log(
      `event loop max delay: ${inline.toFixed(0)} ms processing inline, ${worker.toFixed(0)} ms with the worker`,
    );
    expect(health).toBe(200);
    expect((await versionState(handle.db, v.versionId)).version.status).toBe("ready");
    expect(worker).toBeLessThan(inline / 2);
  }, 60_000);
});

describe("a pipeline instance that died mid-run", { timeout: 30_000 }, () => {
  const STALE_MS = 60_000;
  const claimOptions = { staleAfterMs: STALE_MS, maxAttempts: 3, source: "/test" };

  /** What a pod killed mid-run leaves: the version `validating`, claimed `agoMs` ago. */
  async function claimedByDeadInstance(versionId: string, agoMs: number) {
    const claim = await claimVersion(handle.db, versionId, claimOptions);
    expect(claim.kind).toBe("claimed");
    await backdateClaim(versionId, agoMs);
  }

  async function backdateClaim(versionId: string, agoMs: number) {
    await withSystem(handle.db, (trx) =>
      trx
        .updateTable("model_versions")
        .set({ validation_started_at: sql<Date>`now() - make_interval(secs => ${agoMs / 1000}::float8)` })
        .where("id", "=", versionId)
        .execute(),
    );
  }

  it("a delivery after the claim went stale takes it over and gives the verdict", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()));
    await claimedByDeadInstance(v.versionId, STALE_MS + 5_000);
    const { fn, lines } = pipeline({ staleClaimMs: STALE_MS });
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version, outbox } = await versionState(handle.db, v.versionId);
    expect(version).toMatchObject({ status: "ready", validation_attempts: 2 });
    expect(outbox.map((o) => (o.event as { type: string }).type)).toEqual([events.modelVersionReady.type]);
    expect(lines.find((l) => l.msg?.startsWith("took over a stale validation claim"))).toMatchObject({
      level: "warn",
      versionId: v.versionId,
      attempt: 2,
    });
  });

  it("while the claim is fresh, deliveries get 429 with Retry-After = the time until it goes stale", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()));
    await claimedByDeadInstance(v.versionId, STALE_MS - 20_000);
    const { fn } = pipeline({ staleClaimMs: STALE_MS });
    const res = await post(fn, v.uploadedEvent());
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(5);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect((await versionState(handle.db, v.versionId)).version).toMatchObject({
      status: "validating",
      validation_attempts: 1,
    });
  });

  it("after the last attempt died: rejected PROCESSING_ABANDONED, its file deleted and its bytes released", async () => {
    const v = await seedUploadedVersion(handle.db, store, encodeModel(zoo.twoInput()));
    // The lost attempts had stored a variant before dying: it goes too.
    const leftover = `tenants/${v.tenantId}/models/${v.modelId}/${v.versionId}/fp16.onnx`;
    await store.put(leftover, new Uint8Array(10), { contentLength: 10 });
    await claimedByDeadInstance(v.versionId, STALE_MS + 5_000);
    await claimedByDeadInstance(v.versionId, STALE_MS + 5_000);
    const { fn, lines } = pipeline({ staleClaimMs: STALE_MS, maxValidationAttempts: 2 });
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version, outbox, storage } = await versionState(handle.db, v.versionId);
    expect(version).toMatchObject({ status: "rejected", rejection_code: "PROCESSING_ABANDONED" });
    expect(version.rejection_reason).toContain("started 2 times");
    expect(storage.used_bytes).toBe(0n);
    expect(await store.head(v.objectKey)).toBeNull();
    expect(await store.head(leftover)).toBeNull();
    expect(outbox[0]!.event).toMatchObject({
      type: events.modelVersionRejected.type,
      data: { reason: "PROCESSING_ABANDONED" },
    });
    expect(lines.some((l) => l.msg === "model version rejected: every validation attempt was lost")).toBe(
      true,
    );
  });

  it("an owner overtaken while stalled discards its result; the new owner's verdict and files stand", async () => {
    const bytes = encodeModel(zoo.mlpClassifier());
    const v = await seedUploadedVersion(handle.db, store, bytes);
    let resume: () => void = () => {};
    const stalled = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const { processModel } = await import("../process/process-model.js");
    const slow = pipeline({
      staleClaimMs: STALE_MS,
      processor: async (input, options) => {
        await stalled;
        return processModel(input, options);
      },
    });
    const pending = post(slow.fn, v.uploadedEvent());
    await waitFor(async () => (await versionState(handle.db, v.versionId)).version.status === "validating");
    await backdateClaim(v.versionId, STALE_MS + 5_000);

    const healthy = pipeline({ staleClaimMs: STALE_MS });
    expect((await post(healthy.fn, v.uploadedEvent())).status).toBe(202);
    const decided = await versionState(handle.db, v.versionId);
    expect(decided.version).toMatchObject({ status: "ready", validation_attempts: 2 });

    resume();
    expect((await pending).status).toBe(202);
    expect(slow.lines.some((l) => l.msg?.startsWith("the validation claim was taken over"))).toBe(true);
    const after = await versionState(handle.db, v.versionId);
    expect(after).toEqual(decided);
    expect(after.outbox).toHaveLength(1);
    for (const variant of (after.version.variants as StoredVariant[]).slice(1)) {
      const stored = await readAll(await store.getStream(variant.objectKey));
      expect(sha(stored)).toBe(variant.sha256);
    }
  });
});

describe("a rejected upload's storage", { timeout: 30_000 }, () => {
  it("is released in the rejection's transaction, keeping the tenant's other bytes", async () => {
    const v = await seedUploadedVersion(handle.db, store, zoo.invalidModelBytes());
    await withSystem(handle.db, (trx) =>
      trx
        .updateTable("tenant_storage")
        .set({ used_bytes: v.sizeBytes + 12_345 })
        .where("tenant_id", "=", v.tenantId)
        .execute(),
    );
    const { fn } = pipeline();
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version, storage } = await versionState(handle.db, v.versionId);
    expect(version.status).toBe("rejected");
    expect(storage.used_bytes).toBe(12_345n);
    expect(await store.head(v.objectKey)).toBeNull();
  });

  it("a failed delete is logged and left for a sweeper; the verdict and the release stand", async () => {
    const v = await seedUploadedVersion(handle.db, store, zoo.invalidModelBytes());
    const failing: ObjectStore = Object.create(store, {
      delete: {
        value: async () => {
          throw new AppError("UPSTREAM_UNAVAILABLE", "object store unreachable");
        },
      },
    });
    const { fn, lines } = pipeline({ store: failing });
    expect((await post(fn, v.uploadedEvent())).status).toBe(202);
    const { version, storage, outbox } = await versionState(handle.db, v.versionId);
    expect(version).toMatchObject({ status: "rejected", rejection_code: "INVALID_ONNX" });
    expect(storage.used_bytes).toBe(0n);
    expect(outbox).toHaveLength(1);
    expect(await store.head(v.objectKey)).not.toBeNull();
    expect(
      lines.filter((l) => l.msg === "could not delete a rejected version's file; left for a sweeper"),
    ).toContainEqual(expect.objectContaining({ level: "warn", objectKey: v.objectKey }));
  });

  it("a ready version keeps its original and its bytes", async () => {
    const bytes = encodeModel(zoo.twoInput());
    const v = await seedUploadedVersion(handle.db, store, bytes);
    const { fn } = pipeline();
    await post(fn, v.uploadedEvent());
    const { version, storage } = await versionState(handle.db, v.versionId);
    expect(version.status).toBe("ready");
    expect(storage.used_bytes).toBeGreaterThanOrEqual(BigInt(bytes.byteLength));
    expect((await store.head(v.objectKey))?.size).toBe(bytes.byteLength);
  });
});

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
