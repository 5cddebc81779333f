import type { BatchExecutor } from "../session/session-pool.js";
import type { HostTensor } from "../tensor.js";
import { CostModel } from "./cost-model.js";
import { batchKey, concatInputs, rowsOf, splitOutputs } from "./tensor-batch.js";

export interface BatcherOptions {
  executor: BatchExecutor;
  /** Off: every request runs alone (still queued, bounded and timed out). */
  batching: boolean;
  /** False when the model's axis 0 is not a dynamic batch axis on every input and output. */
  modelBatches: boolean;
  maxBatchSize: number;
  /** Longest a request waits for company once a session slot is free. */
  maxQueueDelayMs: number;
  /** A batch of one of these sizes is dispatched as soon as it forms. */
  preferredBatchSizes: readonly number[];
  /** Queued requests (not executing) beyond which new ones are refused at once. */
  maxQueueSize: number;
  /** A request still queued after this long is answered with a timeout. */
  queueTimeoutMs: number;
  /** Priority levels 0 (highest) … levels-1; default 1. */
  priorityLevels?: number;
  costModel?: CostModel;
  observer?: BatcherObserver;
  now?: () => number;
}

export interface BatcherObserver {
  queueDepth?(depth: number): void;
  rejected?(reason: BatcherErrorReason): void;
  executed?(info: { requests: number; rows: number; computeMs: number }): void;
}

export interface InferJob {
  inputs: HostTensor[];
  /** Output names to compute; empty = all. */
  outputs: readonly string[];
  priority?: number;
}

export interface JobResult {
  outputs: HostTensor[];
  computeMs: number;
  queueMs: number;
  /** Rows in the batch this request ran in. */
  batchRows: number;
}

export type BatcherErrorReason = "queue_full" | "timeout" | "closed" | "execution";

/** An expected refusal; the v2 routes answer 503 (with Retry-After for a full queue). */
export class BatcherError extends Error {
  constructor(
    readonly reason: BatcherErrorReason,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "BatcherError";
  }
}

interface Item {
  job: InferJob;
  key: string;
  rows: number;
  enqueuedAt: number;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A dynamic batcher in the spirit of Triton's `dynamic_batcher`: per-request queueing with a bound and
 * a timeout, batches of compatible requests stacked along axis 0 up to `maxBatchSize`, dispatched when
 * a preferred size forms, when the batch is full, or after `maxQueueDelayMs` — and split back per
 * request in order. One batch executes per session slot while the next one forms in the queue.
 *
 * Adaptive, so batching never makes a model slower: it waits for company only when the cost model
 * says a bigger batch is cheaper per row and arrivals suggest company will come (never with a single
 * request outstanding), and it caps batches at the size that is cheapest per row.
 *
 * @example
 * const batcher = new DynamicBatcher({ executor: pool, batching: true, modelBatches: true, maxBatchSize: 32,
 *   maxQueueDelayMs: 2, preferredBatchSizes: [8, 16, 32], maxQueueSize: 256, queueTimeoutMs: 5000 });
 * const { outputs } = await batcher.submit({ inputs, outputs: [] });
 */
export class DynamicBatcher {
  readonly costModel: CostModel;
  readonly #o: BatcherOptions;
  readonly #levels: Item[][];
  readonly #now: () => number;
  readonly #preferred: Set<number>;
  #queued = 0;
  #executing = 0;
  #executingRequests = 0;
  #closed = false;
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;
  #lastArrival: number | undefined;
  /** EWMA of the time between arrivals, to judge whether waiting can gather company. */
  #interArrivalMs: number | undefined;

  constructor(options: BatcherOptions) {
    this.#o = options;
    this.costModel = options.costModel ?? new CostModel();
    this.#levels = Array.from({ length: Math.max(1, options.priorityLevels ?? 1) }, () => []);
    this.#now = options.now ?? (() => performance.now());
    this.#preferred = new Set(options.preferredBatchSizes);
  }

  /** Requests waiting (not executing). */
  get depth(): number {
    return this.#queued;
  }

  get executing(): number {
    return this.#executing;
  }

  submit(job: InferJob): Promise<JobResult> {
    if (this.#closed) return Promise.reject(new BatcherError("closed", "the model is shutting down"));
    if (this.#queued >= this.#o.maxQueueSize) {
      this.#o.observer?.rejected?.("queue_full");
      return Promise.reject(
        new BatcherError(
          "queue_full",
          `queue full (${this.#o.maxQueueSize} requests waiting)`,
          this.#retryAfter(),
        ),
      );
    }
    const now = this.#now();
    if (this.#lastArrival !== undefined) {
      const gap = now - this.#lastArrival;
      this.#interArrivalMs =
        this.#interArrivalMs === undefined ? gap : this.#interArrivalMs + 0.2 * (gap - this.#interArrivalMs);
    }
    this.#lastArrival = now;
    const level = Math.min(Math.max(0, Math.trunc(job.priority ?? 0)), this.#levels.length - 1);
    return new Promise<JobResult>((resolve, reject) => {
      const item: Item = {
        job,
        key: batchKey(job.inputs, job.outputs),
        rows: rowsOf(job.inputs),
        enqueuedAt: now,
        resolve,
        reject,
        timer: setTimeout(() => this.#expire(item, level), this.#o.queueTimeoutMs),
      };
      item.timer.unref?.();
      this.#levels[level]!.push(item);
      this.#setDepth(this.#queued + 1);
      this.#pump();
    });
  }

  /** Refuses new requests and fails queued ones; executing batches finish. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#wakeTimer);
    for (const level of this.#levels) {
      for (const item of level.splice(0)) {
        clearTimeout(item.timer);
        item.reject(new BatcherError("closed", "the model is shutting down"));
      }
    }
    this.#setDepth(0);
  }

  #retryAfter(): number {
    const perRow = this.costModel.perRowMs(this.#o.maxBatchSize) ?? this.costModel.perRowMs(1) ?? 100;
    return Math.max(1, Math.ceil((this.#queued * perRow) / 1000));
  }

  #setDepth(depth: number): void {
    this.#queued = depth;
    this.#o.observer?.queueDepth?.(depth);
  }

  #expire(item: Item, level: number): void {
    const queue = this.#levels[level]!;
    const at = queue.indexOf(item);
    if (at < 0) return; // already dispatched
    queue.splice(at, 1);
    this.#setDepth(this.#queued - 1);
    this.#o.observer?.rejected?.("timeout");
    item.reject(new BatcherError("timeout", `request waited ${this.#o.queueTimeoutMs} ms in the queue`, 1));
  }

  #head(): Item | undefined {
    for (const level of this.#levels) if (level.length > 0) return level[0];
    return undefined;
  }

  #pump(): void {
    while (!this.#closed && this.#executing < this.#o.executor.slots) {
      const head = this.#head();
      if (!head) return;
      const batch = this.#o.batching && this.#o.modelBatches ? this.#gather(head) : [head];
      if (batch !== undefined && batch.length > 0) {
        this.#dispatch(batch);
        continue;
      }
      return; // waiting for company; a timer calls back
    }
  }

  /** Compatible items (priority order, then arrival) if the batch should go now; undefined to wait. */
  #gather(head: Item): Item[] | undefined {
    const cap = this.costModel.cap(this.#o.maxBatchSize);
    const batch: Item[] = [head];
    let rows = head.rows;
    for (const level of this.#levels) {
      for (const item of level) {
        if (rows >= cap) break;
        if (item === head || item.key !== head.key || rows + item.rows > cap) continue;
        batch.push(item);
        rows += item.rows;
      }
    }
    const roomLeft = rows < cap;
    if (!roomLeft || this.#preferred.has(rows)) return batch;
    const now = this.#now();
    const deadline = head.enqueuedAt + this.#o.maxQueueDelayMs;
    if (now >= deadline || !this.#worthWaiting(rows, deadline - now)) return batch;
    this.#wakeAtTime(deadline);
    return undefined;
  }

  #worthWaiting(rows: number, remainingMs: number): boolean {
    // A lone outstanding request has no company coming (closed loop at concurrency 1).
    if (this.#queued + this.#executingRequests <= 1) return false;
    if (!this.costModel.biggerIsCheaper(rows)) return false;
    // Company is likely only if requests arrive faster than the time left to wait.
    return this.#interArrivalMs !== undefined && this.#interArrivalMs < remainingMs;
  }

  #wakeAtTime(at: number): void {
    if (this.#wakeTimer !== undefined && this.#wakeAt <= at) return;
    clearTimeout(this.#wakeTimer);
    this.#wakeAt = at;
    this.#wakeTimer = setTimeout(
      () => {
        this.#wakeTimer = undefined;
        this.#wakeAt = Number.POSITIVE_INFINITY;
        this.#pump();
      },
      Math.max(0, at - this.#now()),
    );
  }

  #dispatch(batch: Item[]): void {
    for (const item of batch) {
      clearTimeout(item.timer);
      for (const level of this.#levels) {
        const at = level.indexOf(item);
        if (at >= 0) {
          level.splice(at, 1);
          break;
        }
      }
    }
    this.#setDepth(this.#queued - batch.length);
    this.#executing++;
    this.#executingRequests += batch.length;
    const started = this.#now();
    const rowsPer = batch.map((i) => i.rows);
    const rows = rowsPer.reduce((a, b) => a + b, 0);
    const finish = () => {
      this.#executing--;
      this.#executingRequests -= batch.length;
      this.#pump();
    };
    let inputs: HostTensor[];
    try {
      inputs = concatInputs(batch.map((i) => i.job.inputs));
    } catch (err) {
      for (const item of batch) item.reject(err as Error);
      finish();
      return;
    }
    this.#o.executor
      .execute(inputs, batch[0]!.job.outputs)
      .then(
        (result) => {
          this.costModel.record(rows, result.computeMs);
          this.#o.observer?.executed?.({ requests: batch.length, rows, computeMs: result.computeMs });
          let split: HostTensor[][];
          try {
            split = splitOutputs(result.outputs, rowsPer);
          } catch (err) {
            for (const item of batch) item.reject(err as Error);
            return;
          }
          for (const [k, item] of batch.entries()) {
            item.resolve({
              outputs: split[k]!,
              computeMs: result.computeMs,
              queueMs: started - item.enqueuedAt,
              batchRows: rows,
            });
          }
        },
        (err: Error) => {
          this.#o.observer?.rejected?.("execution");
          for (const item of batch) item.reject(new BatcherError("execution", err.message));
        },
      )
      .finally(finish);
  }
}
