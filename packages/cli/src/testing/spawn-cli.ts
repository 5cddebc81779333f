import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/maas.js");

export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Exit code (null when killed) and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `maas` as a child process (the real bin, as a user would), with plain progress lines.
 * `onStderr` sees every chunk (to kill the process at a given percentage).
 */
export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  onStderr?: (chunk: string, run: CliRun) => void,
): CliRun {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, MAAS_PROGRESS: "plain", MAAS_PROGRESS_INTERVAL_MS: "100", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const run: CliRun = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
  };
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
    onStderr?.(c.toString(), run);
  });
  return run;
}

/** The highest `upload NN%` progress line printed so far. */
export function uploadPercent(stderr: string): number {
  let max = 0;
  for (const m of stderr.matchAll(/^upload (\d+)% /gm)) max = Math.max(max, Number(m[1]));
  return max;
}
