// Stock Python v2 clients against the inference function, unchanged (issue 5, item 4). Creates a venv
// in ${MAAS_CACHE:-~/.cache/maas}/venv-compat with pinned tritonclient[http] and kserve on first run.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@maas/config";
import { encodeModel, ort, zoo } from "@maas/onnx";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const PINS = ["tritonclient[http]==2.73.0", "kserve==0.21.0"];
const cache = process.env.MAAS_CACHE ?? join(homedir(), ".cache", "maas");
const venv = join(cache, "venv-compat");
const python = join(venv, "bin", "python");

function ensureVenv(): void {
  if (!existsSync(python)) execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
  // pip is a no-op when the pins are already satisfied.
  execFileSync(python, ["-m", "pip", "install", "-q", ...PINS], { stdio: "inherit", timeout: 600_000 });
}

interface ClientReport {
  x: number[][];
  live: boolean;
  ready: boolean;
  model_ready: boolean;
  metadata: { name: string; platform: string; inputs: { name: string; datatype: string; shape: number[] }[] };
  triton_json: number[][];
  triton_binary: number[][];
  triton_default: number[][];
  triton_error: string | null;
  kserve: {
    server_ready: boolean;
    model_ready: boolean;
    json?: number[][];
    binary?: number[][];
    json_error?: string;
    binary_error?: string;
  };
}

describe("stock v2 clients (tritonclient, kserve) against the inference function", () => {
  let server: ChildProcess;
  let port: number;
  let modelPath: string;

  beforeAll(async () => {
    ensureVenv();
    const dir = await mkdtemp(join(tmpdir(), "compat-"));
    modelPath = join(dir, "mlp.onnx");
    await writeFile(modelPath, encodeModel(zoo.mlpClassifier(1)));
    port = await freePort();
    server = spawn(process.execPath, ["--import", "tsx", "functions/inference/src/main.ts"], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        MODEL_PATH: modelPath,
        MODEL_NAME: "mlp",
        CPU_LIMIT: "1",
        LOG_LEVEL: "error",
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`http://127.0.0.1:${port}/v2/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("inference function did not become ready");
  });

  afterAll(() => {
    server?.kill("SIGTERM");
  });

  it("answers tritonclient (JSON, binary) and KServe's REST client with the model's outputs", async () => {
    const stdout = execFileSync(python, [join(here, "v2_clients.py")], {
      env: { ...process.env, V2_HOST: `127.0.0.1:${port}`, V2_MODEL: "mlp" },
      encoding: "utf8",
      timeout: 120_000,
    });
    const report = JSON.parse(stdout.trim().split("\n").at(-1)!) as ClientReport;
    const x = Float32Array.from(report.x.flat());
    const session = await ort.InferenceSession.create(modelPath);
    const want = (await session.run({ input: new ort.Tensor("float32", x, [3, 64]) })).probabilities!
      .data as Float32Array;
    await session.release();
    const close = (got: number[][] | undefined) => {
      expect(got).toBeDefined();
      got!.flat().forEach((v, i) => {
        expect(v).toBeCloseTo(want[i]!, 5);
      });
    };

    expect([report.live, report.ready, report.model_ready]).toEqual([true, true, true]);
    expect(report.metadata).toMatchObject({
      name: "mlp",
      platform: "onnxruntime_onnx",
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 64] }],
    });
    close(report.triton_json);
    close(report.triton_binary);
    close(report.triton_default);
    expect(report.triton_error).toContain("unknown model");
    expect([report.kserve.server_ready, report.kserve.model_ready]).toEqual([true, true]);
    expect(report.kserve.json_error).toBeUndefined();
    close(report.kserve.json);
    expect(report.kserve.binary_error).toBeUndefined();
    close(report.kserve.binary);
  });
});
