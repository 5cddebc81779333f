// Load generators for the serving benches (serving.ts, serving-kserve.ts, gpu.ts): closed loop (N
// clients, each sends its next request when the last one answered) and open loop (requests fired on
// a fixed schedule, whatever the answers), plus what they share about the inference function: its
// batching configuration and its /metrics.
import { Pool } from "undici";

export interface LoadResult {
  requests: number;
  ok: number;
  rejected: number;
  errors: number;
  seconds: number;
  throughput_rps: number;
  p50_ms: number;
  p99_ms: number;
  /** Rows per executed batch, from the server's metrics over this run. */
  avg_batch_rows?: number;
  rejected_p99_ms?: number;
}

/** The inference function's "batching on" configuration every serving bench compares. */
export const BATCHING_ENV = Object.freeze({
  BATCHING: "true",
  MAX_BATCH_SIZE: "32",
  MAX_QUEUE_DELAY_MS: "2",
  PREFERRED_BATCH_SIZES: "8,16,32",
  MAX_QUEUE_SIZE: "1024",
});

/**
 * The inference function's own series (`inference_*`) from its /metrics, by name, or `name:phase`
 * for the per-phase ones.
 *
 * @example
 * const batches = (await inferenceMetrics(origin))["inference_batches_total"];
 */
export async function inferenceMetrics(origin: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(inference_[a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m) continue;
    const phase = /phase="([a-z_]+)"/.exec(m[2] ?? "")?.[1];
    out[phase ? `${m[1]}:${phase}` : (m[1] as string)] = Number(m[3]);
  }
  return out;
}

export interface InferCall {
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * A v2 infer request with one FP32 input in the binary tensor extension (JSON header, then the raw
 * bytes; `Inference-Header-Content-Length` says where the header ends), asking for binary outputs.
 *
 * @example
 * const call = binaryInferCall("mlp", "input", [1, 1024], new Float32Array(1024));
 */
export function binaryInferCall(
  model: string,
  input: string,
  shape: number[],
  data: Float32Array,
): InferCall {
  const header = new TextEncoder().encode(
    JSON.stringify({
      inputs: [{ name: input, shape, datatype: "FP32", parameters: { binary_data_size: data.byteLength } }],
      parameters: { binary_data_output: true },
    }),
  );
  const body = new Uint8Array(header.byteLength + data.byteLength);
  body.set(header);
  body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.byteLength);
  return {
    path: `/v2/models/${model}/infer`,
    headers: {
      "content-type": "application/octet-stream",
      "inference-header-content-length": String(header.byteLength),
    },
    body,
  };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function round(n: number, digits = 3): number {
  return Number(n.toFixed(digits));
}

async function once(pool: Pool, call: InferCall): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const res = await pool.request({ method: "POST", path: call.path, headers: call.headers, body: call.body });
  await res.body.arrayBuffer();
  return { status: res.statusCode, ms: performance.now() - t0 };
}

function summarize(latOk: number[], latRejected: number[], errors: number, seconds: number): LoadResult {
  latOk.sort((a, b) => a - b);
  latRejected.sort((a, b) => a - b);
  return {
    requests: latOk.length + latRejected.length + errors,
    ok: latOk.length,
    rejected: latRejected.length,
    errors,
    seconds: round(seconds, 2),
    throughput_rps: round(latOk.length / seconds, 1),
    p50_ms: round(percentile(latOk, 0.5)),
    p99_ms: round(percentile(latOk, 0.99)),
    ...(latRejected.length > 0 ? { rejected_p99_ms: round(percentile(latRejected, 0.99)) } : {}),
  };
}

/** `concurrency` clients in a closed loop for `seconds` (after a short warm-up), keep-alive. */
export async function closedLoop(
  origin: string,
  call: InferCall,
  concurrency: number,
  seconds: number,
): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
  try {
    const warmUntil = performance.now() + 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < warmUntil) await once(pool, call);
      }),
    );
    const latOk: number[] = [];
    const latRejected: number[] = [];
    let errors = 0;
    const t0 = performance.now();
    const until = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          try {
            const r = await once(pool, call);
            if (r.status === 200) latOk.push(r.ms);
            else if (r.status === 503) latRejected.push(r.ms);
            else errors++;
          } catch {
            errors++;
          }
        }
      }),
    );
    return summarize(latOk, latRejected, errors, (performance.now() - t0) / 1000);
  } finally {
    await pool.close();
  }
}

/** Requests fired at `rate`/s for `seconds`, each on its own schedule (overload probe). */
export async function openLoop(
  origin: string,
  call: InferCall,
  rate: number,
  seconds: number,
  onTick?: () => void,
): Promise<LoadResult & { offered_rps: number }> {
  const pool = new Pool(origin, { connections: 512, pipelining: 1 });
  const latOk: number[] = [];
  const latRejected: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  let sent = 0;
  try {
    while (sent < total) {
      const due = t0 + (sent * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      // Catch up in bursts when the timer fires late, so the offered rate holds.
      while (sent < total && t0 + (sent * 1000) / rate <= performance.now()) {
        sent++;
        inflight.push(
          once(pool, call).then(
            (r) => {
              if (r.status === 200) latOk.push(r.ms);
              else if (r.status === 503) latRejected.push(r.ms);
              else errors++;
            },
            () => {
              errors++;
            },
          ),
        );
      }
      onTick?.();
    }
    const sendSeconds = (performance.now() - t0) / 1000;
    await Promise.all(inflight);
    const result = summarize(latOk, latRejected, errors, (performance.now() - t0) / 1000);
    return { ...result, offered_rps: round(sent / sendSeconds, 1) };
  } finally {
    await pool.close();
  }
}
