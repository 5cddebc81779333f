// Cold start from zero through the local activator: the zoo's ~100 MB benchmark MLP (1024-4096-4096-1000)
// served by the real inference function, the first v2 infer request timed from the moment it is sent
// (no instance running) to its answer, with the breakdown: process start (spawn → listening, tsx and
// imports), model fetch (file:// into a fresh cache, sha256 checked), session create, warm-up.
// `pnpm exec tsx bench/cold-start.ts [runs]` from the repo root; writes bench/results/cold-start.json.

import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@maas/config";
import { encodeModel, extractSignature, ort, zoo } from "@maas/onnx";
import { ScaledService } from "../scripts/runner/serving/scaled-service.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const runs = Number(process.argv[2] ?? 3);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const work = await mkdtemp(join(tmpdir(), "maas-cold-"));
const model = zoo.benchmarkMlp(2);
const bytes = encodeModel(model);
const modelPath = join(work, "benchmark-mlp.onnx");
await writeFile(modelPath, bytes);
const sha256 = createHash("sha256").update(bytes).digest("hex");
const signature = extractSignature(model);
const input = signature.inputs[0]!;
const width = Number(input.shape[1]);
const body = JSON.stringify({
  inputs: [
    {
      name: input.name,
      datatype: "FP32",
      shape: [1, width],
      data: Array.from({ length: width }, (_, i) => (i % 7) / 7),
    },
  ],
});
console.log(
  `model ${(bytes.byteLength / 1e6).toFixed(1)} MB, input ${input.name} [1, ${width}], ${runs} runs`,
);

interface Run {
  cold_start_ms: number;
  spawn_to_ready_ms: number;
  process_start_ms: number;
  model_fetch_ms: number;
  session_create_ms: number;
  warm_up_ms: number;
  first_infer_ms: number;
}
const results: Run[] = [];
for (let i = 0; i < runs; i++) {
  const cacheDir = await mkdtemp(join(work, "cache-"));
  const svc = new ScaledService({
    name: "bench",
    host: "127.0.0.1",
    policy: {
      minScale: 0,
      maxScale: 1,
      initialScale: 0,
      target: 8,
      retentionMs: 60_000,
      stableWindowMs: 60_000,
    },
    limits: { maxQueue: 10, queueTimeoutMs: 60_000 },
    instance: {
      command: process.execPath,
      args: ["--import", "tsx", join(root, "functions/inference/src/main.ts")],
      cwd: root,
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        MODEL_URI: `file://${modelPath}`,
        MODEL_SHA256: sha256,
        MODEL_NAME: "bench",
        MODEL_VERSION: "1",
        CACHE_DIR: cacheDir,
        MAX_BATCH_SIZE: "8",
        CPU_LIMIT: "1",
      },
      readinessPath: "/readyz",
      startTimeoutMs: 120_000,
      stopTimeoutMs: 5000,
    },
    freePort,
    onLine: (_n, line) => {
      // /readyz answers 503 until warm-up is done: expected, not worth printing.
      if (
        (line.includes('"level":"error"') || line.includes('"level":"fatal"')) &&
        !line.includes("readyz") &&
        !line.includes("not ready yet")
      )
        console.error(line.slice(0, 300));
    },
  });
  await svc.start();
  if (svc.instances.length !== 0) throw new Error("expected zero instances before the first request");
  const t0 = performance.now();
  const res = await fetch(`${svc.url}/v2/models/bench/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const answer = (await res.json()) as { outputs?: { shape: number[] }[] };
  const coldMs = performance.now() - t0;
  if (res.status !== 200 || !answer.outputs)
    throw new Error(`infer answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);
  for (let w = 0; w < 100 && svc.coldStarts.length === 0; w++) await new Promise((r) => setTimeout(r, 20));
  const cs = svc.coldStarts[0]!;
  const run: Run = {
    cold_start_ms: coldMs,
    spawn_to_ready_ms: cs.spawnToReadyMs,
    process_start_ms: cs.spawnToReadyMs - (cs.phases.total ?? 0),
    model_fetch_ms: cs.phases.model_fetch ?? Number.NaN,
    session_create_ms: cs.phases.session_create ?? Number.NaN,
    warm_up_ms: cs.phases.warm_up ?? Number.NaN,
    first_infer_ms: coldMs - cs.spawnToReadyMs,
  };
  results.push(run);
  console.log(`run ${i + 1}:`, Object.fromEntries(Object.entries(run).map(([k, v]) => [k, Math.round(v)])));
  await svc.stop();
  await rm(cacheDir, { recursive: true, force: true });
}
await rm(work, { recursive: true, force: true });

const pick = (k: keyof Run) => Math.round(median(results.map((r) => r[k])));
const figures = {
  cold_start_ms: pick("cold_start_ms"),
  spawn_to_ready_ms: pick("spawn_to_ready_ms"),
  process_start_ms: pick("process_start_ms"),
  model_fetch_ms: pick("model_fetch_ms"),
  session_create_ms: pick("session_create_ms"),
  warm_up_ms: pick("warm_up_ms"),
  first_infer_ms: pick("first_infer_ms"),
  model_bytes: bytes.byteLength,
};
const goals = { cold_start_ms: { target: "< 2000", met: figures.cold_start_ms < 2000 } };
const report = {
  name: "cold-start",
  command: `pnpm exec tsx bench/cold-start.ts ${runs}`,
  date: new Date().toISOString(),
  environment: {
    node: process.version,
    onnxruntime: ort.env.versions.node,
    cpu_limit: 1,
    provider: "cpu",
    runs,
  },
  figures,
  goals,
  runs: results.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)]))),
  notes: [
    "medians over the runs; each run starts from zero instances with an empty model cache",
    "process_start_ms = spawn → ready minus the function's own total (node + tsx start, imports, listen, readiness poll ≤ 100 ms)",
    "the machine is shared (2 cores); the run's load average is in load_avg",
  ],
  load_avg: (await import("node:os")).loadavg(),
};
console.log(JSON.stringify({ figures, goals }, null, 2));
await mkdir(join(here, "results"), { recursive: true });
await writeFile(join(here, "results", "cold-start.json"), `${JSON.stringify(report, null, 2)}\n`);
