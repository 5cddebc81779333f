import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeModel, ort, zoo } from "@maas/onnx";
import { captureLogger } from "@maas/runtime/testing";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInference } from "./app.js";
import { createInferenceMetrics } from "./metrics.js";
import { fetchModel } from "./model/model-fetch.js";
import { createModelServer, type ModelServer } from "./model/model-server.js";
import { startSessionPool } from "./session/session-pool.js";

interface V2Body {
  id?: string;
  outputs: { name: string; shape: number[]; data: number[] }[];
}

async function serve(
  modelPath: string,
  name: string,
  overrides: { maxRequestBytes?: number; batching?: boolean } = {},
) {
  const { logger } = captureLogger();
  const registry = new Registry();
  const model = createModelServer({
    name,
    version: "1",
    fetch: () => fetchModel({ path: modelPath, cacheDir: tmpdir() }),
    createExecutor: (path) =>
      startSessionPool({ modelPath: path, workers: 1, providers: ["cpu"], intraOpNumThreads: 1 }),
    batching: overrides.batching ?? true,
    maxBatchSize: 8,
    maxQueueDelayMs: 1,
    preferredBatchSizes: [4],
    maxQueueSize: 64,
    queueTimeoutMs: 5000,
    metrics: createInferenceMetrics(registry),
    logger,
  });
  const fn = createInference({
    logger,
    registry,
    model,
    maxRequestBytes: overrides.maxRequestBytes ?? 1 << 20,
  });
  return { fn, model };
}

const post = (fn: ReturnType<typeof createInference>, path: string, body: unknown) =>
  fn.app.request(path, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });

describe("v2 REST over a real session worker", () => {
  let dir: string;
  let mlpPath: string;
  let fn: ReturnType<typeof createInference>;
  let model: ModelServer;
  let reference: ort.InferenceSession;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "inf-v2-"));
    mlpPath = join(dir, "mlp.onnx");
    await writeFile(mlpPath, encodeModel(zoo.mlpClassifier(1)));
    ({ fn, model } = await serve(mlpPath, "mlp"));
    reference = await ort.InferenceSession.create(mlpPath);
  });
  afterAll(async () => {
    await model.close();
    await reference.release();
  });

  it("is not ready, and answers v2 errors, until warm-up finished", async () => {
    expect((await fn.app.request("/v2/models/mlp/ready")).status).toBe(400);
    const res = await post(fn, "/v2/models/mlp/infer", { inputs: [] });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "model mlp is not ready" });
    const cold = await model.start();
    fn.setReady(true);
    expect(cold.provider).toBe("cpu");
    expect(cold.session_create_ms).toBeGreaterThan(0);
    expect((await fn.app.request("/v2/models/mlp/ready")).status).toBe(200);
    expect((await fn.app.request("/v2/models/mlp/versions/1/ready")).status).toBe(200);
    expect((await fn.app.request("/v2/health/ready")).status).toBe(200);
  });

  it("serves server and model metadata", async () => {
    expect(await (await fn.app.request("/v2")).json()).toMatchObject({
      name: "maas-inference",
      extensions: ["binary_tensor_data"],
    });
    const meta = await (await fn.app.request("/v2/models/mlp/versions/1")).json();
    expect(meta).toEqual({
      name: "mlp",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 64] }],
      outputs: [{ name: "probabilities", datatype: "FP32", shape: [-1, 10] }],
    });
  });

  it("infers JSON tensors with the same outputs as onnxruntime in-process", async () => {
    const x = Float32Array.from({ length: 128 }, (_, i) => Math.cos(i));
    const res = await post(fn, "/v2/models/mlp/infer", {
      id: "req-1",
      inputs: [
        {
          name: "input",
          shape: [2, 64],
          datatype: "FP32",
          data: [Array.from(x.subarray(0, 64)), Array.from(x.subarray(64))],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("x-inference-compute-ms"))).toBeGreaterThan(0);
    const body = (await res.json()) as V2Body;
    expect(body).toMatchObject({ model_name: "mlp", model_version: "1", id: "req-1" });
    const want = (await reference.run({ input: new ort.Tensor("float32", x, [2, 64]) })).probabilities!
      .data as Float32Array;
    expect(body.outputs[0]!.shape).toEqual([2, 10]);
    (body.outputs[0]!.data as number[]).forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 5);
    });
  });

  it("infers binary tensors and answers binary outputs with Inference-Header-Content-Length", async () => {
    const x = Float32Array.from({ length: 64 }, (_, i) => i / 64);
    const header = new TextEncoder().encode(
      JSON.stringify({
        inputs: [{ name: "input", shape: [1, 64], datatype: "FP32", parameters: { binary_data_size: 256 } }],
        outputs: [{ name: "probabilities", parameters: { binary_data: true } }],
      }),
    );
    const body = new Uint8Array(header.byteLength + 256);
    body.set(header);
    body.set(new Uint8Array(x.buffer), header.byteLength);
    const res = await fn.app.request("/v2/models/mlp/infer", {
      method: "POST",
      body,
      headers: {
        "content-type": "application/octet-stream",
        "inference-header-content-length": String(header.byteLength),
      },
    });
    expect(res.status).toBe(200);
    const n = Number(res.headers.get("inference-header-content-length"));
    const bytes = new Uint8Array(await res.arrayBuffer());
    const head = JSON.parse(new TextDecoder().decode(bytes.subarray(0, n)));
    expect(head.outputs[0]).toMatchObject({
      name: "probabilities",
      shape: [1, 10],
      parameters: { binary_data_size: 40 },
    });
    const got = new Float32Array(bytes.slice(n).buffer);
    const want = (await reference.run({ input: new ort.Tensor("float32", x, [1, 64]) })).probabilities!
      .data as Float32Array;
    got.forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 5);
    });
  });

  it("batches concurrent requests and still answers each with its own rows", async () => {
    const inputs = Array.from({ length: 12 }, (_, k) =>
      Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * (k + 1))),
    );
    const responses = await Promise.all(
      inputs.map((x) =>
        post(fn, "/v2/models/mlp/infer", {
          inputs: [{ name: "input", shape: [1, 64], datatype: "FP32", data: Array.from(x) }],
        }),
      ),
    );
    for (const [k, res] of responses.entries()) {
      const body = (await res.json()) as V2Body;
      const want = (await reference.run({ input: new ort.Tensor("float32", inputs[k]!, [1, 64]) }))
        .probabilities!.data as Float32Array;
      (body.outputs[0]!.data as number[]).forEach((v, i) => {
        expect(v).toBeCloseTo(want[i]!, 5);
      });
    }
    const metrics = await (await fn.app.request("/metrics")).text();
    expect(metrics).toMatch(/inference_exec_count_total\{model="mlp",version="1"\} \d+/);
    expect(metrics).toMatch(/inference_cold_start_seconds\{model="mlp",version="1",phase="warm_up"\}/);
  });

  it("answers 404 for another model or version, 400 for a bad request, 413 for a body over the limit", async () => {
    const other = await fn.app.request("/v2/models/nope");
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: "Request for unknown model: 'nope' is not found" });
    expect((await fn.app.request("/v2/models/mlp/versions/9")).status).toBe(404);
    const bad = await post(fn, "/v2/models/mlp/infer", {
      inputs: [{ name: "input", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/shape \[1,3\]/);
    const big = await fn.app.request("/v2/models/mlp/infer", {
      method: "POST",
      body: new Uint8Array((1 << 20) + 1),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: `request body exceeds ${1 << 20} bytes` });
  });
});

describe("models that do not batch along axis 0", () => {
  it("serves a fixed-batch model and a two-input model", async () => {
    const dir = await mkdtemp(join(tmpdir(), "inf-v2b-"));
    const fixed = join(dir, "fixed.onnx");
    const two = join(dir, "two.onnx");
    await writeFile(fixed, encodeModel(zoo.fixedBatch(5)));
    await writeFile(two, encodeModel(zoo.twoInput(4)));
    const a = await serve(fixed, "fixed");
    const b = await serve(two, "two");
    try {
      await a.model.start();
      await b.model.start();
      const fixedRes = await Promise.all(
        [1, 2, 3].map((k) =>
          post(a.fn, "/v2/models/fixed/infer", {
            inputs: [{ name: "input", shape: [1, 16], datatype: "FP32", data: Array(16).fill(k) }],
          }),
        ),
      );
      for (const r of fixedRes) expect(((await r.json()) as V2Body).outputs[0]!.shape).toEqual([1, 8]);
      const twoRes = await post(b.fn, "/v2/models/two/infer", {
        inputs: [
          { name: "a", shape: [1, 32], datatype: "FP32", data: Array(32).fill(1) },
          { name: "b", shape: [1, 32], datatype: "FP32", data: Array(32).fill(2) },
        ],
      });
      expect(((await twoRes.json()) as V2Body).outputs[0]!.shape).toEqual([1, 16]);
    } finally {
      await a.model.close();
      await b.model.close();
    }
  });
});
