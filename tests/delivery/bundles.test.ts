// Smoke test for the deployable bundles (issue 8): every function is bundled by scripts/bundle, copied
// to an empty folder outside the checkout (so no workspace node_modules can be found by walking up),
// started with plain `node main.js`, asked for /healthz, then stopped with SIGTERM, which must exit 0.
// The inference bundle also gets a real ONNX model and must become ready, which proves the native
// onnxruntime-node external and the bundled session worker both load.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "@maas/config";
import { encodeModel, zoo } from "@maas/onnx";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BundleResult, bundleFunction, listFunctions } from "../../scripts/bundle/bundle-function.js";

const root = path.resolve(import.meta.dirname, "../..");
let work: string;
let names: string[];
const built = new Map<string, BundleResult>();

async function poll(url: string, deadlineMs: number, child: ChildProcess): Promise<number> {
  const until = Date.now() + deadlineMs;
  let last = 0;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`exited early with ${child.exitCode}`);
    last = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (last === 200) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  return last;
}

interface Run {
  healthz: number;
  readyz: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  startMs: number;
  output: string;
}

/** Starts `node main.js` in `dir`, waits for /healthz (and /readyz), sends SIGTERM, waits for exit. */
async function smoke(dir: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  const port = await freePort();
  const started = performance.now();
  // A clean environment: nothing from the workspace, no infra URLs, so embedded defaults apply.
  const child = spawn(process.execPath, ["main.js"], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (b: Buffer) => {
    output += b.toString();
  });
  child.stderr!.on("data", (b: Buffer) => {
    output += b.toString();
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once("exit", (code, signal) => resolve([code, signal])),
  );
  try {
    // Generous: functions without DATABASE_URL boot an embedded PGlite and migrate it first (~15 s on a busy machine, far more when the machine is overloaded).
    const healthz = await poll(`http://127.0.0.1:${port}/healthz`, 90_000, child);
    const startMs = Math.round(performance.now() - started);
    const readyz = await poll(`http://127.0.0.1:${port}/readyz`, 20_000, child);
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const [exitCode, signal] = await exited;
    clearTimeout(timer);
    return { healthz, readyz, exitCode, signal, startMs, output };
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`${dir}: ${String(err)}\n${output}`);
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "maas-bundles-"));
  names = await listFunctions(root);
  // esbuild runs in its own process, so the builds overlap; copying node_modules is I/O bound.
  const results = await Promise.all(
    names.map((name) => bundleFunction({ root, name, outRoot: path.join(work, "out"), install: "copy" })),
  );
  for (const r of results) built.set(r.name, r);
  // Relocate: a bundle must not depend on where it was built.
  for (const name of names)
    await cp(path.join(work, "out", name), path.join(work, "run", name), { recursive: true });
  await rm(path.join(work, "out"), { recursive: true, force: true });
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("deployable bundles", () => {
  it("builds one bundle per function, and the run folder has no node_modules above it", () => {
    expect(names).toEqual(expect.arrayContaining(["gateway", "inference", "control", "quota"]));
    expect([...built.keys()].sort()).toEqual(names);
    let dir = path.join(work, "run");
    while (path.dirname(dir) !== dir) {
      dir = path.dirname(dir);
      expect(existsSync(path.join(dir, "node_modules")), `${dir}/node_modules`).toBe(false);
    }
  });

  it("ships JavaScript only, with package.json listing exactly the external packages", async () => {
    for (const name of names) {
      const dir = path.join(work, "run", name);
      const top = await readdir(dir);
      expect(top, name).toContain("main.js");
      expect(
        top.filter((f) => f.endsWith(".ts")),
        name,
      ).toEqual([]);
      const pkg = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as {
        type: string;
        dependencies: Record<string, string>;
      };
      expect(pkg.type).toBe("module");
      expect(pkg.dependencies, name).toEqual(built.get(name)!.externals);
      for (const dep of Object.keys(pkg.dependencies))
        expect(existsSync(path.join(dir, "node_modules", dep, "package.json")), `${name}: ${dep}`).toBe(true);
    }
    expect(built.get("inference")!.externals).toEqual({ "onnxruntime-node": expect.any(String) });
    // Pure-JS dependencies are inlined: only native or file-reading packages ship as folders.
    for (const name of names)
      for (const inlined of ["hono", "zod", "pino", "prom-client", "kysely", "@maas/runtime"])
        expect(Object.keys(built.get(name)!.externals), `${name}: ${inlined}`).not.toContain(inlined);
    // Only this platform's onnxruntime binaries are copied (the package carries every platform's).
    const bin = path.join(work, "run", "inference", "node_modules", "onnxruntime-node", "bin", "napi-v6");
    expect(await readdir(bin)).toEqual(["linux"]);
  });

  it("every function except inference starts with node main.js, answers /healthz, and exits 0 on SIGTERM", async () => {
    const plain = names.filter((n) => n !== "inference");
    const runs: [string, Run][] = [];
    // Two at a time: the machine is small and shared.
    for (let i = 0; i < plain.length; i += 2) {
      const batch = plain.slice(i, i + 2);
      const done = await Promise.all(batch.map((n) => smoke(path.join(work, "run", n))));
      for (const [j, r] of done.entries()) runs.push([batch[j]!, r]);
    }
    for (const [name, r] of runs) {
      expect(
        { name, healthz: r.healthz, readyz: r.readyz, exit: r.exitCode, signal: r.signal },
        r.output,
      ).toEqual({
        name,
        healthz: 200,
        readyz: 200,
        exit: 0,
        signal: null,
      });
    }
    console.log(`bundle start → /healthz 200: ${runs.map(([n, r]) => `${n} ${r.startMs} ms`).join(", ")}`);
  }, 300_000);

  it("the inference bundle loads a model through onnxruntime-node in its worker and becomes ready", async () => {
    const modelPath = path.join(work, "model.onnx");
    await writeFile(modelPath, encodeModel(zoo.mlpClassifier()));
    const r = await smoke(path.join(work, "run", "inference"), {
      MODEL_PATH: modelPath,
      CACHE_DIR: path.join(work, "model-cache"),
    });
    expect({ healthz: r.healthz, readyz: r.readyz, exit: r.exitCode }, r.output).toEqual({
      healthz: 200,
      readyz: 200,
      exit: 0,
    });
  }, 120_000);

  it("a bundle whose environment is invalid exits non-zero instead of serving", async () => {
    // inference without MODEL_PATH/MODEL_URI: the env schema refuses it at start (STYLE §3).
    const port = await freePort();
    const child = spawn(process.execPath, ["main.js"], {
      cwd: path.join(work, "run", "inference"),
      env: { PATH: process.env.PATH ?? "", PORT: String(port), LOG_LEVEL: "warn" },
      stdio: "ignore",
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).not.toBe(0);
  }, 30_000);
});
