import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const fixture = fileURLToPath(new URL("./testing/fixture-main.ts", import.meta.url));

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
});

/** Starts the fixture exactly as the local runner starts a function, and collects its JSON log lines. */
async function start(env: Record<string, string>) {
  child = spawn(process.execPath, ["--import", "tsx", fixture], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const proc = child;
  const lines: { msg?: string; port?: number }[] = [];
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      const parsed = JSON.parse(line) as { msg?: string; port?: number };
      lines.push(parsed);
      if (parsed.msg === "fixture ready") resolve(lines.find((l) => l.port)?.port ?? 0);
    });
    exited.then((code) => reject(new Error(`fixture exited ${code} before ready: ${stderr}`)));
  });
  return { proc, port, lines, exited, stderr: () => stderr };
}

describe("runFunction in a real process", () => {
  it("on SIGTERM finishes the in-flight request, runs onShutdown and exits 0", async () => {
    const f = await start({ LOG_LEVEL: "info" });
    expect((await fetch(`http://127.0.0.1:${f.port}/readyz`)).status).toBe(200);
    const slow = fetch(`http://127.0.0.1:${f.port}/slow?ms=400`);
    await new Promise((r) => setTimeout(r, 100));
    f.proc.kill("SIGTERM");
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("slow done");
    expect(await f.exited).toBe(0);
    const msgs = f.lines.map((l) => l.msg);
    expect(msgs).toEqual(expect.arrayContaining(["shutting down", "onShutdown ran", "shutdown complete"]));
    expect(msgs.indexOf("onShutdown ran")).toBeLessThan(msgs.indexOf("shutdown complete"));
  }, 20_000);

  it("exits 1 with a clear message when the env is bad, before listening", async () => {
    child = spawn(process.execPath, ["--import", "tsx", fixture], {
      env: { PATH: process.env.PATH ?? "", PORT: "not-a-port" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const proc = child;
    let stderr = "";
    proc.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("invalid environment");
    expect(stderr).toContain("PORT");
  }, 20_000);
});
