import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * Serving metrics, named after Triton's (nv_inference_* → inference_*), labelled by model and version:
 * - `inference_request_success_total` / `inference_request_failure_total{reason}`: requests answered.
 * - `inference_count_total`: rows inferred; `inference_exec_count_total`: batches executed. Their
 *   ratio is the average batch size (Triton's inference_count / execution_count).
 * - `inference_request_duration_seconds`, `inference_queue_duration_seconds`,
 *   `inference_compute_duration_seconds`: end-to-end, time waiting in the batcher, and session.run time
 *   (per request; compute is the whole batch's run).
 * - `inference_batch_size`: rows per executed batch.
 * - `inference_queue_depth`: requests waiting; `inference_rejected_total{reason}`: queue_full, timeout.
 * - `inference_cold_start_seconds{phase}`: model_fetch, session_create, warm_up, total.
 */
export interface InferenceMetrics {
  success: Counter<string>;
  failure: Counter<string>;
  inferenceCount: Counter<string>;
  execCount: Counter<string>;
  requestDuration: Histogram<string>;
  queueDuration: Histogram<string>;
  computeDuration: Histogram<string>;
  batchSize: Histogram<string>;
  queueDepth: Gauge<string>;
  rejected: Counter<string>;
  coldStart: Gauge<string>;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Registers the serving metrics on the function's registry.
 *
 * @example
 * const metrics = createInferenceMetrics(fn.registry);
 * metrics.inferenceCount.inc({ model: "m", version: "1" }, 8);
 */
export function createInferenceMetrics(registry: Registry): InferenceMetrics {
  const labelNames = ["model", "version"] as const;
  const registers = [registry];
  return {
    success: new Counter({
      name: "inference_request_success_total",
      help: "Inference requests answered with outputs",
      labelNames,
      registers,
    }),
    failure: new Counter({
      name: "inference_request_failure_total",
      help: "Inference requests that failed, by reason",
      labelNames: [...labelNames, "reason"],
      registers,
    }),
    inferenceCount: new Counter({
      name: "inference_count_total",
      help: "Rows inferred (batch elements)",
      labelNames,
      registers,
    }),
    execCount: new Counter({
      name: "inference_exec_count_total",
      help: "Batches executed (session runs)",
      labelNames,
      registers,
    }),
    requestDuration: new Histogram({
      name: "inference_request_duration_seconds",
      help: "Infer request time from decoded request to encoded response",
      labelNames,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    queueDuration: new Histogram({
      name: "inference_queue_duration_seconds",
      help: "Time a request waited in the batcher",
      labelNames,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    computeDuration: new Histogram({
      name: "inference_compute_duration_seconds",
      help: "session.run time of the batch each request ran in",
      labelNames,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    batchSize: new Histogram({
      name: "inference_batch_size",
      help: "Rows per executed batch",
      labelNames,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    queueDepth: new Gauge({
      name: "inference_queue_depth",
      help: "Requests waiting in the batcher",
      labelNames,
      registers,
    }),
    rejected: new Counter({
      name: "inference_rejected_total",
      help: "Requests refused by the batcher (queue_full, timeout)",
      labelNames: [...labelNames, "reason"],
      registers,
    }),
    coldStart: new Gauge({
      name: "inference_cold_start_seconds",
      help: "Cold-start phase durations: model_fetch, session_create, warm_up, total",
      labelNames: [...labelNames, "phase"],
      registers,
    }),
  };
}
