import { loadEnvOrExit } from "@maas/config";
import { depsFromEnv, runFunction } from "@maas/runtime";
import { createObjectStore } from "@maas/storage";
import { createInference } from "./app.js";
import { defaultCpuLimit, executionProviders, inferenceEnvSchema } from "./config.js";
import { createInferenceMetrics } from "./metrics.js";
import { fetchModel } from "./model/model-fetch.js";
import { createModelServer } from "./model/model-server.js";
import { startSessionPool } from "./session/session-pool.js";

// Parsed once at start: a bad env exits here, so the revision never becomes ready.
const env = loadEnvOrExit(inferenceEnvSchema);
const deps = depsFromEnv("inference", env);
const { Registry } = await import("prom-client");
const registry = new Registry();
const logger = deps.logger!;

// s3://bucket/key: the store is bound to the URI's bucket; endpoint and keys come from S3_* (storage env).
const s3Bucket = /^s3:\/\/([^/]+)\//.exec(env.MODEL_URI ?? "")?.[1];
const objects = s3Bucket ? createObjectStore({ ...process.env, S3_BUCKET: s3Bucket }) : undefined;

const model = createModelServer({
  name: env.MODEL_NAME,
  version: env.MODEL_VERSION,
  fetch: () =>
    fetchModel({
      cacheDir: env.CACHE_DIR,
      ...(env.MODEL_PATH ? { path: env.MODEL_PATH } : {}),
      ...(env.MODEL_URI ? { uri: env.MODEL_URI } : {}),
      ...(env.MODEL_SHA256 ? { sha256: env.MODEL_SHA256 } : {}),
      ...(objects ? { objects } : {}),
    }),
  createExecutor: (path) =>
    startSessionPool({
      modelPath: path,
      workers: env.WORKERS,
      providers: executionProviders(env),
      intraOpNumThreads: env.CPU_LIMIT ?? defaultCpuLimit(),
      onFallback: (f) => logger.warn(f, `execution provider ${f.provider} unavailable, falling back`),
    }),
  batching: env.BATCHING,
  maxBatchSize: env.MAX_BATCH_SIZE,
  maxQueueDelayMs: env.MAX_QUEUE_DELAY_MS,
  preferredBatchSizes: env.PREFERRED_BATCH_SIZES,
  maxQueueSize: env.MAX_QUEUE_SIZE,
  queueTimeoutMs: env.REQUEST_TIMEOUT_MS,
  priorityLevels: env.PRIORITY_LEVELS,
  warmUpRuns: env.WARMUP ? 3 : 0,
  warmUpDynamicDim: env.WARMUP_DYNAMIC_DIM,
  metrics: createInferenceMetrics(registry),
  logger,
});

const fn = createInference({
  ...deps,
  registry,
  model,
  maxRequestBytes: env.MAX_REQUEST_BYTES,
  onShutdown: async () => {
    await model.close();
    await objects?.close();
  },
});
await runFunction(fn, env, { warmUp: async () => void (await model.start()) });
