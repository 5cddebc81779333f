import { Worker } from "node:worker_threads";
import { DATATYPES, datatypeFromOrt, type HostTensor } from "../tensor.js";
import type { FromWorker, InitMessage, ReadyMessage, ToWorker, ValueInfo, WireTensor } from "./protocol.js";

/** What the batcher needs from whatever runs the model: N slots, each runs one batch at a time. */
export interface BatchExecutor {
  readonly slots: number;
  /** Runs on a free slot (the caller never has more than `slots` in flight). */
  execute(inputs: HostTensor[], outputs: readonly string[]): Promise<ExecuteResult>;
}

export interface ExecuteResult {
  outputs: HostTensor[];
  computeMs: number;
}

export interface SessionPoolOptions {
  modelPath: string;
  workers: number;
  providers: string[];
  intraOpNumThreads: number;
  /** Called once per worker when a provider was skipped (e.g. CUDA missing → CPU). */
  onFallback?: (info: { worker: number; provider: string; reason: string }) => void;
}

export interface SessionPool extends BatchExecutor {
  /** The first worker's view of the model (all workers load the same file). */
  readonly info: Pick<ReadyMessage, "provider" | "fallbacks" | "inputs" | "outputs" | "createMs">;
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

const WORKER_URL = new URL("./session-worker.ts", import.meta.url);
/** How long close() waits for a worker to release its session and exit before terminating it. */
const CLOSE_GRACE_MS = 5_000;

function toWire(t: HostTensor): WireTensor {
  return {
    name: t.name,
    type: DATATYPES[t.datatype].ort,
    dims: t.shape,
    buffer: t.data.buffer,
    byteOffset: t.data.byteOffset,
    length: t.data.length,
  };
}

function fromWire(t: WireTensor): HostTensor {
  const datatype = datatypeFromOrt(t.type);
  if (!datatype) throw new Error(`output "${t.name}" has unsupported type ${t.type}`);
  return {
    name: t.name,
    datatype,
    shape: t.dims,
    data: DATATYPES[datatype].make(t.buffer, t.byteOffset, t.length),
  };
}

/**
 * Spawns `workers` session workers (worker_threads), each holding its own onnxruntime-node session,
 * so `session.run()` — synchronous inside the binding — never blocks the HTTP event loop. Input
 * buffers are transferred (moved, not copied) to the worker and outputs transferred back; callers
 * must not touch an input's storage after `execute`.
 *
 * @example
 * const pool = await startSessionPool({ modelPath, workers: 1, providers: ["cpu"], intraOpNumThreads: 1 });
 * const { outputs } = await pool.execute([{ name: "input", datatype: "FP32", shape: [1, 4], data }], []);
 */
export async function startSessionPool(options: SessionPoolOptions): Promise<SessionPool> {
  const slots: Slot[] = [];
  const pending = new Map<number, { resolve: (r: ExecuteResult) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let closed = false;

  const spawn = (index: number) =>
    new Promise<ReadyMessage>((resolve, reject) => {
      const init: InitMessage = {
        kind: "init",
        modelPath: options.modelPath,
        providers: options.providers,
        intraOpNumThreads: options.intraOpNumThreads,
        interOpNumThreads: 1,
      };
      const worker = new Worker(WORKER_URL, { workerData: { maasSessionWorker: init } });
      const slot: Slot = { worker, busy: false };
      let ready = false;
      worker.on("message", (msg: FromWorker) => {
        switch (msg.kind) {
          case "ready":
            ready = true;
            slots.push(slot);
            for (const f of msg.fallbacks) options.onFallback?.({ worker: index, ...f });
            resolve(msg);
            return;
          case "init-error":
            reject(new Error(`session create failed: ${msg.message}`));
            void worker.terminate();
            return;
          case "result": {
            const p = pending.get(msg.id);
            pending.delete(msg.id);
            p?.resolve({ outputs: msg.outputs.map(fromWire), computeMs: msg.computeMs });
            return;
          }
          case "run-error": {
            const p = pending.get(msg.id);
            pending.delete(msg.id);
            p?.reject(new Error(msg.message));
            return;
          }
        }
      });
      worker.on("error", (err) => {
        if (!ready) reject(err);
        failAll(err);
      });
      worker.on("exit", (code) => {
        if (!ready) reject(new Error(`session worker exited with code ${code} before it was ready`));
        else if (!closed) failAll(new Error(`session worker exited with code ${code}`));
      });
    });

  // A dead worker fails what it was running rather than leaving callers waiting forever.
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const readies = await Promise.allSettled(Array.from({ length: options.workers }, (_, i) => spawn(i)));
  const failed = readies.find((r) => r.status === "rejected");
  if (failed) {
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw failed.reason;
  }
  const first = (readies[0] as PromiseFulfilledResult<ReadyMessage>).value;
  const createMs = Math.max(
    ...readies.map((r) => (r as PromiseFulfilledResult<ReadyMessage>).value.createMs),
  );

  return {
    slots: slots.length,
    info: {
      provider: first.provider,
      fallbacks: first.fallbacks,
      inputs: first.inputs,
      outputs: first.outputs,
      createMs,
    },
    execute(inputs, outputs) {
      const slot = slots.find((s) => !s.busy);
      if (!slot) return Promise.reject(new Error("no free session slot: the batcher overcommitted"));
      slot.busy = true;
      const id = nextId++;
      const feeds = inputs.map(toWire);
      const transfer = [...new Set(feeds.map((f) => f.buffer).filter((b) => b instanceof ArrayBuffer))];
      return new Promise<ExecuteResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const msg: ToWorker = { kind: "run", id, feeds, outputs: [...outputs] };
        try {
          slot.worker.postMessage(msg, transfer as ArrayBuffer[]);
        } catch {
          // Non-transferable storage (e.g. a pooled Buffer's backing store): structured clone copies it.
          slot.worker.postMessage(msg);
        }
      }).finally(() => {
        slot.busy = false;
      });
    },
    async close() {
      closed = true;
      // Each worker releases its session and exits on its own; terminate() only one that has not
      // within CLOSE_GRACE_MS. Terminating at once raced the release: a worker torn down while
      // onnxruntime freed its session aborted the whole process (SIGABRT, seen once in CI).
      await Promise.all(
        slots.map(async (s) => {
          const exited = new Promise<void>((resolve) => s.worker.once("exit", () => resolve()));
          s.worker.postMessage({ kind: "close" } satisfies ToWorker);
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<"late">((resolve) => {
            timer = setTimeout(() => resolve("late"), CLOSE_GRACE_MS);
          });
          if ((await Promise.race([exited, late])) === "late") await s.worker.terminate();
          clearTimeout(timer);
        }),
      );
      failAll(new Error("session pool closed"));
    },
  };
}

export type { ValueInfo };
