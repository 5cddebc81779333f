import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeHttpBinary } from "@maas/events";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/runner/index.js";
import { tenantCreated } from "./harness.js";

// `pnpm start` smoke test: the real runner script on the real knative/base and functions, embedded
// defaults only. Every function answers /healthz, the table is printed, SIGINT exits 0.
function waitForOutput(child: ChildProcess, marker: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`no "${marker}" within ${timeoutMs} ms:\n${out.slice(-3000)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(marker)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`runner exited with ${String(code)} before "${marker}":\n${out.slice(-3000)}`));
    });
  });
}

describe("pnpm start", () => {
  it("runs every function, prints the table, accepts events and stops cleanly on SIGINT", async () => {
    const portBase = 20_000 + Math.floor(Math.random() * 200) * 100;
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/runner/main.ts"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        PORT_BASE: String(portBase),
        LOCAL_DIR: await mkdtemp(path.join(tmpdir(), "maas-start-")),
        DATABASE_URL: "",
        KAFKA_BROKERS: "",
        REDIS_URL: "",
        S3_ENDPOINT: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const out = await waitForOutput(child, "ready: Ctrl-C to stop", 110_000);
      const functions = readdirSync(path.join(repoRoot, "functions"), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
      expect(functions.length).toBeGreaterThan(0);
      expect(out).toMatch(/FUNCTION\s+URL\s+PID\s+STATE/);
      // inference is the template the deployer renders per model: run on demand, not at start.
      const inference = out.split("\n").find((l) => l.startsWith("inference "));
      expect(inference).toMatch(/\s+-\s+on-demand/);
      for (const name of functions.filter((n) => n !== "inference")) {
        const row = out.split("\n").find((l) => l.startsWith(`${name} `));
        expect(row, `table row for ${name}`).toMatch(/http:\/\/127\.0\.0\.1:\d+\s+\d+\s+ready/);
        const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(row!)![1];
        const res = await fetch(`${url}/healthz`);
        expect(res.status, `${name} /healthz`).toBe(200);
      }
      const broker = /broker\s+(http:\S+)/.exec(out)?.[1];
      expect(broker).toBe(`http://127.0.0.1:${portBase}/maas/default`);
      const { headers, body } = encodeHttpBinary(tenantCreated("tnt_smoke"));
      expect((await fetch(broker!, { method: "POST", headers, body })).status).toBe(202);
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
  });
});
