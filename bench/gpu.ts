// GPU benchmark (issue 5): the inference function's CUDA path against its CPU path on the same machine,
// through the function's own code (config → startSessionPool → session worker → createWithFallback), on
// the benchmark MLP (1024→4096→4096→1000 FP32). `pnpm exec tsx bench/gpu.ts` from the repo root, or the
// bundle that bench/gpu/pack.sh builds (see bench/gpu/README.md for the lent GPU machine); writes
// bench/results/gpu.json (GPU_BENCH_OUT overrides). Without an NVIDIA GPU or without onnxruntime-node's
// CUDA provider library it says so and exits 0, measuring nothing.
//
// Env: BENCH_RUNS (timed runs per case, default 300), BENCH_SECONDS (HTTP seconds per case, default 5),
// GPU_BENCH_HTTP=0 (skip the HTTP cases), GPU_BENCH_INFERENCE_MAIN (a bundled inference main.js to serve
// with; default: functions/inference/src/main.ts under tsx), GPU_BENCH_COMMAND (recorded as `command`).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, renameSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { freePort } from "@maas/config";
import { encodeModel, ort, zoo } from "@maas/onnx";
import { defaultCpuLimit, executionProviders } from "../functions/inference/src/config.js";
import { type SessionPool, startSessionPool } from "../functions/inference/src/session/session-pool.js";
import {
  BATCHING_ENV,
  binaryInferCall,
  closedLoop,
  inferenceMetrics,
  type LoadResult,
} from "./serving-load.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const WARMUP_RUNS = 10;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BATCHES = [1, 32, 64];
const INPUT = "input";
const FEATURES = 1024;
const PROVIDER_LIB = "libonnxruntime_providers_cuda.so";

type Device = "cpu" | "gpu";
interface Fallback {
  worker?: number;
  provider: string;
  reason: string;
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/** The folder holding onnxruntime-node's libonnxruntime.so.1, where its CUDA provider library must sit. */
function ortBinDir(): string | undefined {
  const bases = [import.meta.url, pathToFileURL(join(root, "functions/inference/package.json")).href];
  for (const base of bases) {
    try {
      const main = createRequire(base).resolve("onnxruntime-node");
      let dir = dirname(main);
      while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
      return join(dir, "bin", "napi-v6", process.platform, process.arch);
    } catch {
      // not resolvable from this base; try the next
    }
  }
  return undefined;
}

/** GPU name, driver, memory from nvidia-smi; undefined when there is no NVIDIA GPU (or no driver). */
function gpuInfo(): { name: string; driver: string; memory_mib: number } | undefined {
  const r = spawnSync(
    "nvidia-smi",
    ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader,nounits"],
    { encoding: "utf8" },
  );
  if (r.status !== 0 || !r.stdout.trim()) return undefined;
  const [name, driver, memory] = r.stdout.trim().split("\n")[0]!.split(", ");
  return { name: name ?? "", driver: driver ?? "", memory_mib: Number(memory) };
}

/** GPU memory (MiB) held by each process, from nvidia-smi; empty when it cannot tell. */
function gpuProcesses(): Map<number, number> {
  const r = spawnSync(
    "nvidia-smi",
    ["--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
    { encoding: "utf8" },
  );
  const out = new Map<number, number>();
  for (const line of (r.stdout ?? "").trim().split("\n")) {
    const [pid, mem] = line.split(", ").map(Number);
    if (pid && mem !== undefined) out.set(pid, mem);
  }
  return out;
}

function rowsInput(rows: number): Float32Array {
  return Float32Array.from({ length: rows * FEATURES }, (_, i) => Math.sin(i) * 0.5);
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface BatchCase {
  rows: number;
  runs: number;
  first_run_ms: number;
  /** session.run inside the worker. */
  compute_p50_ms: number;
  compute_p90_ms: number;
  /** execute() through the session pool: postMessage to the worker, run, results back. */
  p50_ms: number;
  p90_ms: number;
  rows_per_s: number;
}

async function timeBatch(pool: SessionPool, rows: number): Promise<BatchCase> {
  const input = rowsInput(rows);
  // execute() moves the input buffer to the worker, so every run gets its own copy.
  const run = () =>
    pool.execute([{ name: INPUT, datatype: "FP32", shape: [rows, FEATURES], data: input.slice() }], []);
  const f0 = performance.now();
  await run();
  const firstRunMs = performance.now() - f0;
  for (let i = 0; i < WARMUP_RUNS; i++) await run();
  const wall: number[] = [];
  const compute: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = await run();
    wall.push(performance.now() - t);
    compute.push(r.computeMs);
  }
  const elapsed = performance.now() - t0;
  wall.sort((a, b) => a - b);
  compute.sort((a, b) => a - b);
  return {
    rows,
    runs: RUNS,
    first_run_ms: round(firstRunMs),
    compute_p50_ms: round(percentile(compute, 0.5)),
    compute_p90_ms: round(percentile(compute, 0.9)),
    p50_ms: round(percentile(wall, 0.5)),
    p90_ms: round(percentile(wall, 0.9)),
    rows_per_s: round((RUNS * rows) / (elapsed / 1000), 1),
  };
}

/** One session pool as the inference function builds it for DEVICE=cpu|gpu, timed at each batch size. */
async function measureDevice(modelPath: string, device: Device) {
  const providers = executionProviders({ DEVICE: device, EXECUTION_PROVIDERS: undefined });
  const fallbacks: Fallback[] = [];
  const t0 = performance.now();
  const pool = await startSessionPool({
    modelPath,
    workers: 1,
    providers,
    intraOpNumThreads: defaultCpuLimit(),
    onFallback: (f) => fallbacks.push(f),
  });
  const startMs = performance.now() - t0;
  try {
    const cases: Record<string, BatchCase> = {};
    for (const rows of BATCHES) {
      cases[`batch${rows}`] = await timeBatch(pool, rows);
      console.log(device, pool.info.provider, JSON.stringify(cases[`batch${rows}`]));
    }
    // Same input on both devices: the outputs are compared afterwards.
    const { outputs } = await pool.execute(
      [{ name: INPUT, datatype: "FP32", shape: [32, FEATURES], data: rowsInput(32) }],
      [],
    );
    return {
      device,
      providers_asked: providers,
      provider: pool.info.provider,
      fallbacks,
      session_create_ms: round(pool.info.createMs, 1),
      pool_start_ms: round(startMs, 1),
      cases,
      check: outputs[0]!.data as Float32Array,
    };
  } finally {
    await pool.close();
  }
}

/** `--probe <model>`: a session pool for DEVICE=gpu; prints which provider it got and why (JSON). */
async function probe(modelPath: string): Promise<void> {
  const fallbacks: Fallback[] = [];
  const pool = await startSessionPool({
    modelPath,
    workers: 1,
    providers: executionProviders({ DEVICE: "gpu", EXECUTION_PROVIDERS: undefined }),
    intraOpNumThreads: 1,
    onFallback: (f) => {
      fallbacks.push(f);
      // What main.ts logs (logger.warn(f, …)) in the same case.
      console.error(
        JSON.stringify({
          level: "warn",
          ...f,
          msg: `execution provider ${f.provider} unavailable, falling back`,
        }),
      );
    },
  });
  console.log(
    JSON.stringify({ provider: pool.info.provider, fallbacks, createMs: round(pool.info.createMs, 1) }),
  );
  await pool.close();
}

/** Runs this same script (tsx or bundle) as a child: same loader flags, same file. */
function self(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
    encoding: "utf8",
    env,
  });
}

interface Server {
  origin: string;
  child: ChildProcess;
  coldStartMs: number;
  logs: string[];
  metrics(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** The inference function in a child process (LOG_LEVEL=warn: the fallback warning, no access logs). */
async function startServer(modelPath: string, env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const main = process.env.GPU_BENCH_INFERENCE_MAIN;
  const args = main ? [main] : ["--import", "tsx", join(root, "functions/inference/src/main.ts")];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: main ? dirname(main) : root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      MODEL_PATH: modelPath,
      MODEL_NAME: "mlp",
      WORKERS: "1",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logs.push(line);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const origin = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${logs.join("\n")}`);
    const ok = await fetch(`${origin}/v2/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    origin,
    child,
    coldStartMs: performance.now() - t0,
    logs,
    metrics: () => inferenceMetrics(origin),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** The HTTP service for DEVICE=cpu|gpu, batching on, closed loop at 1 and 64 concurrent clients. */
async function measureHttp(modelPath: string, device: Device) {
  const server = await startServer(modelPath, { ...BATCHING_ENV, DEVICE: device });
  try {
    const m = await server.metrics();
    const gpuMemMib = gpuProcesses().get(server.child.pid!) ?? 0;
    const call = binaryInferCall("mlp", INPUT, [1, FEATURES], rowsInput(1));
    const load: Record<string, LoadResult> = {};
    for (const c of [1, 64]) {
      const before = await server.metrics();
      const r = await closedLoop(server.origin, call, c, SECONDS);
      const after = await server.metrics();
      const rows = (after.inference_count_total ?? 0) - (before.inference_count_total ?? 0);
      const execs = (after.inference_exec_count_total ?? 0) - (before.inference_exec_count_total ?? 0);
      load[`c${c}`] = { ...r, avg_batch_rows: execs > 0 ? round(rows / execs, 2) : 0 };
      console.log(`http ${device} c${c}`, JSON.stringify(load[`c${c}`]));
    }
    return {
      device,
      cold_start_ms: Math.round(server.coldStartMs),
      cold_start_phases_ms: Object.fromEntries(
        Object.entries(m)
          .filter(([k]) => k.startsWith("inference_cold_start_seconds:"))
          .map(([k, v]) => [k.split(":")[1]!, Math.round(v * 1000)]),
      ),
      server_gpu_memory_mib: gpuMemMib,
      fallback_logs: server.logs.filter((l) => l.includes("falling back")),
      load,
    };
  } finally {
    await server.stop();
  }
}

/**
 * Our fallback with the CUDA provider library gone (renamed for the duration): the session pool and
 * the HTTP service both asked for DEVICE=gpu must come up on cpu and say why.
 */
async function measureFallback(modelPath: string, providerLib: string, http: boolean) {
  const hidden = `${providerLib}.maas-off`;
  renameSync(providerLib, hidden);
  try {
    const r = self(["--probe", modelPath]);
    const probed = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as {
      provider?: string;
      fallbacks?: Fallback[];
    };
    let serverLog: string | undefined;
    if (http) {
      const server = await startServer(modelPath, { DEVICE: "gpu", WARMUP: "false" });
      serverLog = server.logs.find((l) => l.includes("falling back"));
      await server.stop();
    }
    return {
      provider_lib: "renamed away",
      pool_provider: probed.provider,
      pool_fallbacks: probed.fallbacks,
      // onnxruntime's own error line: which library it could not load.
      ort_error: r.stderr
        .split("\n")
        // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
        .map((l) => l.replace(/\x1b\[[0-9;]*m/g, "").trim())
        .find((l) => l.includes("Failed to load")),
      ...(serverLog ? { server_warn_log: JSON.parse(serverLog) as unknown } : {}),
    };
  } finally {
    renameSync(hidden, providerLib);
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function main(): Promise<void> {
  const gpu = gpuInfo();
  if (!gpu) {
    console.log("gpu bench: no NVIDIA GPU here (nvidia-smi is missing or failed): nothing measured.");
    console.log("Run it on a GPU machine, see bench/gpu/README.md; bench/results/gpu.json is left as it is.");
    return;
  }
  const bin = ortBinDir();
  const providerLib = bin ? join(bin, PROVIDER_LIB) : undefined;
  if (!providerLib || !existsSync(providerLib)) {
    console.log(`gpu bench: ${gpu.name} found, but onnxruntime-node has no ${PROVIDER_LIB} beside`);
    console.log(`  ${bin ?? "(onnxruntime-node not found)"}: the CUDA path cannot run, nothing measured.`);
    console.log(
      "Bring the provider libraries as bench/gpu/README.md says; bench/results/gpu.json is left as it is.",
    );
    return;
  }

  const dir = await mkdtemp(join(tmpdir(), "maas-gpu-"));
  const modelPath = join(dir, "benchmark-mlp.onnx");
  await writeFile(modelPath, encodeModel(zoo.benchmarkMlp(2)));
  const http = process.env.GPU_BENCH_HTTP !== "0";
  try {
    const cpu = await measureDevice(modelPath, "cpu");
    const cuda = await measureDevice(modelPath, "gpu");
    if (cuda.provider !== "cuda") {
      console.error("gpu bench: DEVICE=gpu fell back to", cuda.provider, JSON.stringify(cuda.fallbacks));
      process.exitCode = 1;
      return;
    }
    const fallback = await measureFallback(modelPath, providerLib, http);
    console.log("fallback", JSON.stringify(fallback));
    const service = http
      ? { cpu: await measureHttp(modelPath, "cpu"), gpu: await measureHttp(modelPath, "gpu") }
      : undefined;

    const speedup = (rows: number, key: "p50_ms" | "compute_p50_ms") =>
      round(cpu.cases[`batch${rows}`]![key] / cuda.cases[`batch${rows}`]![key], 2);
    const figures = {
      gpu: gpu.name,
      cuda_session_create_ms: cuda.session_create_ms,
      cpu_session_create_ms: cpu.session_create_ms,
      ...Object.fromEntries(
        BATCHES.flatMap((rows) => [
          [`cpu_batch${rows}_p50_ms`, cpu.cases[`batch${rows}`]!.p50_ms],
          [`cuda_batch${rows}_p50_ms`, cuda.cases[`batch${rows}`]!.p50_ms],
          [`speedup_batch${rows}`, speedup(rows, "p50_ms")],
          [`compute_speedup_batch${rows}`, speedup(rows, "compute_p50_ms")],
          [`cuda_rows_per_s_batch${rows}`, cuda.cases[`batch${rows}`]!.rows_per_s],
          [`cpu_rows_per_s_batch${rows}`, cpu.cases[`batch${rows}`]!.rows_per_s],
        ]),
      ),
      cuda_vs_cpu_max_abs_diff_batch32: round(maxAbsDiff(cpu.check, cuda.check), 6),
      fallback_provider: fallback.pool_provider ?? null,
      ...(service
        ? {
            http_cuda_c1_p50_ms: service.gpu.load.c1!.p50_ms,
            http_cpu_c1_p50_ms: service.cpu.load.c1!.p50_ms,
            http_cuda_c64_rps: service.gpu.load.c64!.throughput_rps,
            http_cpu_c64_rps: service.cpu.load.c64!.throughput_rps,
            http_speedup_c64: round(
              service.gpu.load.c64!.throughput_rps / service.cpu.load.c64!.throughput_rps,
              2,
            ),
            http_cuda_cold_start_ms: service.gpu.cold_start_ms,
          }
        : {}),
    };
    const goals = {
      cuda_path_runs: {
        target: "DEVICE=gpu gets the cuda provider with no fallback",
        met: cuda.provider === "cuda" && cuda.fallbacks.length === 0,
      },
      cuda_faster_batch32: {
        target: "cuda faster than cpu at batch 32 (p50 through the session pool)",
        met: speedup(32, "p50_ms") > 1,
      },
      fallback_to_cpu: {
        target: "without the CUDA provider, DEVICE=gpu falls back to cpu and says why",
        met: fallback.pool_provider === "cpu" && (fallback.pool_fallbacks?.length ?? 0) > 0,
      },
      outputs_agree: {
        target: "cuda and cpu outputs agree (max abs diff ≤ 1e-2; TF32 matmuls on the GPU)",
        met: figures.cuda_vs_cpu_max_abs_diff_batch32 <= 1e-2,
      },
    };
    const strip = ({ check: _check, ...rest }: typeof cpu) => rest;
    const report = {
      name: "gpu",
      command: process.env.GPU_BENCH_COMMAND ?? "pnpm exec tsx bench/gpu.ts",
      date: new Date().toISOString(),
      environment: {
        node: process.version,
        onnxruntime: ort.env.versions.node,
        gpu: gpu.name,
        gpu_driver: gpu.driver,
        gpu_memory_mib: gpu.memory_mib,
        cpus: availableParallelism(),
        cpu_model: cpus()[0]?.model,
        intra_op_threads: defaultCpuLimit(),
        model: "zoo.benchmarkMlp(2): 1024→4096→4096→1000 FP32",
        runs_per_case: RUNS,
        warmup_runs: WARMUP_RUNS,
        http_seconds_per_case: http ? SECONDS : null,
      },
      figures,
      goals,
      cases: {
        session_pool: { cpu: strip(cpu), cuda: strip(cuda) },
        fallback,
        ...(service ? { http: service } : {}),
      },
    };
    const outFile = process.env.GPU_BENCH_OUT ?? join(here, "results", "gpu.json");
    await mkdir(dirname(outFile), { recursive: true });
    await writeFile(outFile, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify({ figures, goals }, null, 2));
    console.log(`wrote ${outFile}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--probe") await probe(process.argv[3]!);
else await main();
