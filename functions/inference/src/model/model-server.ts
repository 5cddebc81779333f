import type { Logger } from "@maas/runtime";
import { BatcherError, DynamicBatcher } from "../batching/dynamic-batcher.js";
import type { InferenceMetrics } from "../metrics.js";
import type { ValueInfo } from "../session/protocol.js";
import type { BatchExecutor } from "../session/session-pool.js";
import { DATATYPES, datatypeFromOrt, elementCount, type HostTensor } from "../tensor.js";
import type { DecodedRequest } from "../v2/decode-request.js";
import type { ModelSignature, TensorSignature } from "../v2/signature.js";
import { V2Error } from "../v2/v2-error.js";

/** What loading produced: an executor with N slots and the model's inputs/outputs as the session sees them. */
export interface LoadedExecutor extends BatchExecutor {
  readonly info: { provider: string; inputs: ValueInfo[]; outputs: ValueInfo[] };
  close(): Promise<void>;
}

export interface ModelServerOptions {
  name: string;
  version: string;
  /** Puts the model on local disk (phase `model_fetch`). */
  fetch: () => Promise<{ path: string; bytes: number }>;
  /** Creates the sessions (phase `session_create`), e.g. startSessionPool. */
  createExecutor: (path: string) => Promise<LoadedExecutor>;
  batching: boolean;
  maxBatchSize: number;
  maxQueueDelayMs: number;
  preferredBatchSizes: number[];
  maxQueueSize: number;
  queueTimeoutMs: number;
  priorityLevels?: number;
  /** Runs of each warm-up batch size; 0 skips warm-up. Default 3. */
  warmUpRuns?: number;
  /** Size used for dynamic non-batch axes in warm-up inputs. Default 32. */
  warmUpDynamicDim?: number;
  metrics: InferenceMetrics;
  logger: Logger;
}

export interface ColdStart {
  model_fetch_ms: number;
  session_create_ms: number;
  warm_up_ms: number;
  total_ms: number;
  provider: string;
  model_bytes: number;
}

export interface InferOutcome {
  outputs: HostTensor[];
  computeMs: number;
  queueMs: number;
  batchRows: number;
}

export interface ModelServer {
  readonly name: string;
  readonly version: string;
  readonly platform: "onnxruntime_onnx";
  /** Undefined until the session exists. */
  signature(): ModelSignature | undefined;
  isReady(): boolean;
  /** Fetch, create sessions, warm up; then ready. Rejects (and stays not ready) on any failure. */
  start(): Promise<ColdStart>;
  infer(request: DecodedRequest): Promise<InferOutcome>;
  close(): Promise<void>;
  readonly batcher: DynamicBatcher | undefined;
}

function toSignature(values: ValueInfo[], what: string): TensorSignature[] {
  return values.map((v) => {
    const datatype = datatypeFromOrt(v.type);
    if (!datatype)
      throw new Error(
        `${what} "${v.name}" has type "${v.type || "non-tensor"}", which this server cannot serve`,
      );
    return { name: v.name, datatype, shape: v.shape };
  });
}

/** Zero-filled inputs for a warm-up batch of `rows` (zeros are valid for every numeric datatype). */
export function warmUpInputs(
  inputs: readonly TensorSignature[],
  rows: number,
  dynamicDim: number,
): HostTensor[] {
  return inputs.map((spec) => {
    const shape = spec.shape.map((d, axis) => (d !== -1 ? d : axis === 0 ? rows : dynamicDim));
    return {
      name: spec.name,
      datatype: spec.datatype,
      shape,
      data: DATATYPES[spec.datatype].alloc(elementCount(shape)),
    };
  });
}

/**
 * One served model version: loads it, warms it up at each preferred batch size (which also seeds the
 * batcher's cost model), then answers inferences through the dynamic batcher.
 *
 * @example
 * const server = createModelServer({ name: "mlp", version: "1", fetch, createExecutor, batching: true, ... });
 * await server.start(); // cold start phases
 * const { outputs } = await server.infer(decoded);
 */
export function createModelServer(options: ModelServerOptions): ModelServer {
  const labels = { model: options.name, version: options.version };
  const m = options.metrics;
  let executor: LoadedExecutor | undefined;
  let batcher: DynamicBatcher | undefined;
  let signature: ModelSignature | undefined;
  let ready = false;
  let closed = false;

  const start = async (): Promise<ColdStart> => {
    const t0 = performance.now();
    const fetched = await options.fetch();
    const t1 = performance.now();
    executor = await options.createExecutor(fetched.path);
    const t2 = performance.now();
    signature = {
      inputs: toSignature(executor.info.inputs, "input"),
      outputs: toSignature(executor.info.outputs, "output"),
    };
    const modelBatches =
      signature.inputs.length > 0 &&
      [...signature.inputs, ...signature.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
    batcher = new DynamicBatcher({
      executor,
      batching: options.batching,
      modelBatches,
      maxBatchSize: options.maxBatchSize,
      maxQueueDelayMs: options.maxQueueDelayMs,
      preferredBatchSizes: options.preferredBatchSizes,
      maxQueueSize: options.maxQueueSize,
      queueTimeoutMs: options.queueTimeoutMs,
      priorityLevels: options.priorityLevels,
      observer: {
        queueDepth: (d) => m.queueDepth.set(labels, d),
        rejected: (reason) => m.rejected.inc({ ...labels, reason }),
        executed: ({ rows, computeMs }) => {
          m.execCount.inc(labels);
          m.inferenceCount.inc(labels, rows);
          m.batchSize.observe(labels, rows);
          void computeMs;
        },
      },
    });
    const runs = options.warmUpRuns ?? 3;
    if (runs > 0) {
      const sizes =
        modelBatches && options.batching
          ? [...new Set([1, ...options.preferredBatchSizes, options.maxBatchSize])].sort((a, b) => a - b)
          : [1];
      for (const rows of sizes) {
        for (let i = 0; i < runs; i++) {
          const inputs = warmUpInputs(signature.inputs, rows, options.warmUpDynamicDim ?? 32);
          const { computeMs } = await executor.execute(inputs, []);
          // The first run of a size pays one-off allocation; it would mislead the cost model.
          if (i > 0 || runs === 1) batcher.costModel.record(rows, computeMs);
        }
      }
    }
    const t3 = performance.now();
    const cold: ColdStart = {
      model_fetch_ms: t1 - t0,
      session_create_ms: t2 - t1,
      warm_up_ms: t3 - t2,
      total_ms: t3 - t0,
      provider: executor.info.provider,
      model_bytes: fetched.bytes,
    };
    m.coldStart.set({ ...labels, phase: "model_fetch" }, cold.model_fetch_ms / 1000);
    m.coldStart.set({ ...labels, phase: "session_create" }, cold.session_create_ms / 1000);
    m.coldStart.set({ ...labels, phase: "warm_up" }, cold.warm_up_ms / 1000);
    m.coldStart.set({ ...labels, phase: "total" }, cold.total_ms / 1000);
    ready = !closed;
    options.logger.info(
      { coldStart: cold, modelBatches, cap: batcher.costModel.cap(options.maxBatchSize) },
      "model ready",
    );
    return cold;
  };

  const infer = async (request: DecodedRequest): Promise<InferOutcome> => {
    if (!ready || !batcher) throw new V2Error(503, `model ${options.name} is not ready`, 1);
    const t0 = performance.now();
    try {
      const r = await batcher.submit({
        inputs: request.inputs,
        outputs: request.outputs.map((o) => o.name),
        ...(request.priority !== undefined ? { priority: request.priority } : {}),
      });
      m.success.inc(labels);
      m.queueDuration.observe(labels, r.queueMs / 1000);
      m.computeDuration.observe(labels, r.computeMs / 1000);
      m.requestDuration.observe(labels, (performance.now() - t0) / 1000);
      return r;
    } catch (err) {
      if (err instanceof BatcherError) {
        m.failure.inc({ ...labels, reason: err.reason });
        if (err.reason === "execution") throw new V2Error(500, `inference failed: ${err.message}`);
        throw new V2Error(503, err.message, err.retryAfterSeconds ?? 1);
      }
      m.failure.inc({ ...labels, reason: "internal" });
      throw err;
    }
  };

  return {
    name: options.name,
    version: options.version,
    platform: "onnxruntime_onnx",
    signature: () => signature,
    isReady: () => ready,
    start,
    infer,
    get batcher() {
      return batcher;
    },
    async close() {
      closed = true;
      ready = false;
      batcher?.close();
      await executor?.close();
    },
  };
}
