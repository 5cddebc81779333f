import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export type ProcessState = "idle" | "starting" | "ready" | "stopping" | "stopped" | "exited" | "failed";

export interface FunctionProcessOptions {
  name: string;
  /** Executable and arguments, e.g. `process.execPath`, `["--import", "tsx", "functions/x/src/main.ts"]`. */
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  host: string;
  port: number;
  readinessPath: string;
  startTimeoutMs?: number;
  /** Between readiness polls (default 100 ms); the activator polls faster, a cold start waits on it. */
  pollIntervalMs?: number;
  /** SIGTERM first; SIGKILL when the child is still alive after this long. */
  stopTimeoutMs?: number;
  /** Each line the child writes (stdout and stderr). */
  onLine?: (name: string, line: string) => void;
  /** The child exited while nobody asked it to; the runner reports it and restarts nothing. */
  onUnexpectedExit?: (name: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

/**
 * One function as a child process on its own port. `start()` is idempotent and resolves once the
 * readiness path answers 2xx, so a later activator (scale to zero: start on the first request, stop
 * when idle) can call it on demand and await the same promise; `stop()` likewise.
 *
 * @example
 * const p = new FunctionProcess({ name: "quota", command: process.execPath,
 *   args: ["--import", "tsx", "functions/quota/src/main.ts"], cwd, env, host: "127.0.0.1", port: 8101,
 *   readinessPath: "/readyz" });
 * await p.start();
 */
export class FunctionProcess {
  state: ProcessState = "idle";
  exitCode: number | null = null;
  readonly #opts: FunctionProcessOptions;
  #child: ChildProcess | undefined;
  #starting: Promise<void> | undefined;
  #exited: Promise<void> | undefined;

  constructor(opts: FunctionProcessOptions) {
    this.#opts = opts;
  }

  get name(): string {
    return this.#opts.name;
  }

  get url(): string {
    return `http://${this.#opts.host}:${this.#opts.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): Promise<void> {
    if (this.state === "ready") return Promise.resolve();
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const o = this.#opts;
    this.state = "starting";
    this.exitCode = null;
    const child = spawn(o.command, o.args, {
      cwd: o.cwd,
      env: { ...o.env, PORT: String(o.port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => o.onLine?.(o.name, line));
    }
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitCode = code;
        const expected = this.state === "stopping";
        this.state = expected ? "stopped" : this.state === "starting" ? "failed" : "exited";
        if (!expected) o.onUnexpectedExit?.(o.name, code, signal);
        resolve();
      });
      child.once("error", () => resolve());
    });
    const deadline = Date.now() + (o.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (this.state !== "starting") {
        throw new Error(`${o.name} exited (code ${String(this.exitCode)}) before it became ready`);
      }
      try {
        const res = await fetch(`${this.url}${o.readinessPath}`, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        if (res.ok) {
          this.state = "ready";
          return;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, o.pollIntervalMs ?? 100));
    }
    await this.stop();
    this.state = "failed";
    throw new Error(
      `${o.name} not ready on ${this.url}${o.readinessPath} within ${o.startTimeoutMs ?? 60_000} ms`,
    );
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      if (this.state !== "failed" && this.state !== "exited") this.state = "stopped";
      return;
    }
    this.state = "stopping";
    child.kill("SIGTERM");
    const killTimer = setTimeout(() => child.kill("SIGKILL"), this.#opts.stopTimeoutMs ?? 10_000);
    await this.#exited;
    clearTimeout(killTimer);
  }
}
