import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "@maas/config";
import { encodeModel, zoo } from "@maas/onnx";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/runner/index.js";
import { ScaledService } from "../../scripts/runner/serving/scaled-service.js";
import { until } from "./harness.js";

// The real inference function behind the activator, from zero, on the zoo's small MLP classifier.
describe("scale to zero with the real inference function", () => {
  let dir: string;
  let svc: ScaledService;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "maas-s2z-"));
    await writeFile(path.join(dir, "mlp.onnx"), encodeModel(zoo.mlpClassifier(1)));
    svc = new ScaledService({
      name: "mlp",
      host: "127.0.0.1",
      policy: { minScale: 0, maxScale: 1, initialScale: 0, target: 8, retentionMs: 500, stableWindowMs: 200 },
      limits: { maxQueue: 10, queueTimeoutMs: 60_000 },
      instance: {
        command: process.execPath,
        args: ["--import", "tsx", path.join(repoRoot, "functions/inference/src/main.ts")],
        cwd: repoRoot,
        env: {
          ...process.env,
          HOST: "127.0.0.1",
          LOG_LEVEL: "warn",
          MODEL_URI: `file://${path.join(dir, "mlp.onnx")}`,
          MODEL_NAME: "mlp",
          CACHE_DIR: path.join(dir, "cache"),
          MAX_BATCH_SIZE: "4",
          CPU_LIMIT: "1",
        },
        readinessPath: "/readyz",
        startTimeoutMs: 90_000,
        stopTimeoutMs: 5000,
      },
      freePort,
      tickMs: 50,
    });
    await svc.start();
  });
  afterAll(async () => {
    await svc?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("holds the first infer request through the cold start, answers it, records the phases, then scales to zero", async () => {
    expect(svc.instances).toHaveLength(0);
    const res = await fetch(`${svc.url}/v2/models/mlp/infer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        inputs: [
          {
            name: "input",
            datatype: "FP32",
            shape: [1, 64],
            data: Array.from({ length: 64 }, (_, i) => i / 64),
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: { name: string; shape: number[]; data: number[] }[] };
    expect(body.outputs[0]!.shape).toEqual([1, 10]);
    expect(body.outputs[0]!.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    const cold = await until(() => svc.coldStarts[0], "cold start record");
    expect(Object.keys(cold.phases).sort()).toEqual(["model_fetch", "session_create", "total", "warm_up"]);
    expect(cold.spawnToReadyMs).toBeGreaterThan(cold.phases.total!);
    await until(() => svc.instances.length === 0, "scale to zero", 10_000);
  });
});
