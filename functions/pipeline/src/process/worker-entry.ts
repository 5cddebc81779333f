// Worker-thread entry for model processing. Started by `runInWorker`; from sources it runs under
// tsx (the runner passes `--import tsx`), from a bundle as plain JS beside main.js.
import { parentPort } from "node:worker_threads";
import { processModel } from "./process-model.js";
import type { ProcessOptions, ProcessOutcome } from "./types.js";

export interface WorkerRequest {
  bytes: Uint8Array;
  options: ProcessOptions;
}

export type WorkerReply = { kind: "done"; outcome: ProcessOutcome } | { kind: "crashed"; message: string };

const port = parentPort;
if (port) {
  port.once("message", async (request: WorkerRequest) => {
    try {
      const outcome = await processModel(request.bytes, request.options);
      const transfer: ArrayBuffer[] = [];
      if (outcome.ok) {
        for (const v of outcome.variants) {
          // protobufjs may hand out a view of Node's shared Buffer pool, which cannot be transferred:
          // give each file its own buffer, then move (not copy) it to the parent.
          v.bytes = new Uint8Array(v.bytes);
          transfer.push(v.bytes.buffer as ArrayBuffer);
        }
      }
      port.postMessage({ kind: "done", outcome } satisfies WorkerReply, transfer);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      port.postMessage({ kind: "crashed", message } satisfies WorkerReply);
    }
  });
}
