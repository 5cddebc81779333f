import { Worker } from "node:worker_threads";
import type { ProcessOptions, ProcessOutcome } from "./types.js";
import type { WorkerReply, WorkerRequest } from "./worker-entry.js";

const WORKER_URL = new URL("./worker-entry.ts", import.meta.url);

export interface RunInWorkerOptions {
  /** Terminates the worker after this long; the model is then rejected (it would time out again). */
  timeoutMs: number;
}

/** The worker died, hung or threw: not a verdict on the model's format, but on processing it. */
export class ProcessingFailedError extends Error {
  override readonly name = "ProcessingFailedError";
  readonly code: "PROCESSING_FAILED" | "PROCESSING_TIMEOUT";

  constructor(code: "PROCESSING_FAILED" | "PROCESSING_TIMEOUT", message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Runs `processModel` in a fresh worker thread: parsing, graph rewrites and onnxruntime sessions
 * occupy a thread for seconds to minutes, and the function's event loop must keep answering health
 * checks and other events meanwhile. One worker per model, ended afterwards, so the memory of a
 * large model goes back to the system with it. The input buffer is transferred (the caller's view
 * becomes empty) and the variant files come back transferred.
 *
 * @example
 * const outcome = await runInWorker(bytes, DEFAULT_PROCESS_OPTIONS, { timeoutMs: 600_000 });
 */
export function runInWorker(
  bytes: Uint8Array,
  options: ProcessOptions,
  run: RunInWorkerOptions,
): Promise<ProcessOutcome> {
  // From sources the entry is TypeScript and needs tsx's loader in the worker too; a bundle has
  // rewritten the URL to the bundled `.js` file.
  const execArgv = WORKER_URL.pathname.endsWith(".ts") ? ["--import", "tsx"] : [];
  const worker = new Worker(WORKER_URL, { execArgv });
  return new Promise<ProcessOutcome>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      fn();
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new ProcessingFailedError(
              "PROCESSING_TIMEOUT",
              `processing the model took longer than ${Math.round(run.timeoutMs / 1000)} s`,
            ),
          ),
        ),
      run.timeoutMs,
    );
    worker.once("message", (reply: WorkerReply) => {
      if (reply.kind === "done") settle(() => resolve(reply.outcome));
      else settle(() => reject(new ProcessingFailedError("PROCESSING_FAILED", reply.message)));
    });
    worker.once("error", (error) =>
      settle(() => reject(new ProcessingFailedError("PROCESSING_FAILED", error.message))),
    );
    worker.once("exit", (code) =>
      settle(() =>
        reject(
          new ProcessingFailedError("PROCESSING_FAILED", `the processing worker exited with code ${code}`),
        ),
      ),
    );
    const request: WorkerRequest = { bytes, options };
    const buffer = bytes.buffer;
    // A view over part of a buffer (or a shared one) is copied rather than transferred.
    const transferable =
      buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength;
    worker.postMessage(request, transferable ? [buffer] : []);
  });
}
