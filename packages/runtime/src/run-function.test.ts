import { EventEmitter } from "node:events";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createFunction } from "./create-function.js";
import { type ProcessLike, runFunction } from "./run-function.js";
import { captureLogger } from "./testing/capture-logger.js";

/** Signals without a real process: emits SIGTERM/SIGINT and records exit codes. */
function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  let exited: (code: number) => void = () => {};
  const exitedOnce = new Promise<number>((r) => {
    exited = r;
  });
  const proc: ProcessLike = {
    on: (event, listener) => emitter.on(event, listener),
    exit: (code: number) => {
      exits.push(code);
      exited(code);
    },
  };
  return { proc, exits, exitedOnce, signal: (s: "SIGTERM" | "SIGINT") => emitter.emit(s, s) };
}

const newFn = (onShutdown?: () => Promise<void>) =>
  createFunction({ name: "t", logger: captureLogger().logger, registry: new Registry(), onShutdown });

describe("runFunction", () => {
  it("serves, warms up, becomes ready, and exits 0 after a graceful SIGTERM", async () => {
    const p = fakeProcess();
    let shutDown = false;
    const fn = newFn(async () => {
      shutDown = true;
    });
    let readyDuringWarmUp: boolean | undefined;
    const server = await runFunction(
      fn,
      { PORT: 0, HOST: "127.0.0.1" },
      {
        process: p.proc,
        warmUp: async () => {
          readyDuringWarmUp = fn.isReady();
        },
      },
    );
    expect(readyDuringWarmUp).toBe(false);
    expect(fn.isReady()).toBe(true);
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(200);

    p.signal("SIGTERM");
    expect(await p.exitedOnce).toBe(0);
    expect(shutDown).toBe(true);
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
  });

  it("exits 1 when a shutdown step fails", async () => {
    const p = fakeProcess();
    const fn = newFn(async () => {
      throw new Error("pool would not close");
    });
    await runFunction(fn, { PORT: 0, HOST: "127.0.0.1" }, { process: p.proc });
    p.signal("SIGINT");
    expect(await p.exitedOnce).toBe(1);
  });

  it("never becomes ready and exits 1 when warm-up fails", async () => {
    const p = fakeProcess();
    const fn = newFn();
    await runFunction(
      fn,
      { PORT: 0, HOST: "127.0.0.1" },
      {
        process: p.proc,
        warmUp: async () => {
          throw new Error("model missing");
        },
      },
    );
    expect(p.exits).toEqual([1]);
    expect(fn.isReady()).toBe(false);
  });

  it("a second signal exits at once without waiting for the drain", async () => {
    const p = fakeProcess();
    let finish: () => void = () => {};
    const fn = newFn(() => new Promise<void>((r) => (finish = r)));
    await runFunction(fn, { PORT: 0, HOST: "127.0.0.1" }, { process: p.proc });
    p.signal("SIGTERM");
    await new Promise((r) => setTimeout(r, 20));
    expect(p.exits).toEqual([]);
    p.signal("SIGTERM");
    expect(p.exits).toEqual([1]);
    finish();
  });
});
