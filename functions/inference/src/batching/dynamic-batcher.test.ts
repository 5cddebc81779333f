import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BatchExecutor, ExecuteResult } from "../session/session-pool.js";
import type { HostTensor } from "../tensor.js";
import { CostModel } from "./cost-model.js";
import { BatcherError, type BatcherOptions, DynamicBatcher } from "./dynamic-batcher.js";

/** A fake model: y = 2x per row, with a controllable completion so tests see batches form. */
class FakeExecutor implements BatchExecutor {
  readonly batches: { rows: number; inputs: HostTensor[] }[] = [];
  readonly #pending: (() => void)[] = [];
  constructor(
    readonly slots = 1,
    readonly autoComplete = false,
    readonly costMs: (rows: number) => number = (rows) => 5 + rows,
  ) {}

  execute(inputs: HostTensor[]): Promise<ExecuteResult> {
    const x = inputs[0]!;
    const rows = x.shape[0]!;
    this.batches.push({ rows, inputs });
    const out = Float32Array.from(x.data as Float32Array, (v) => v * 2);
    const result = {
      outputs: [{ name: "y", datatype: "FP32" as const, shape: [...x.shape], data: out }],
      computeMs: this.costMs(rows),
    };
    if (this.autoComplete) return Promise.resolve(result);
    return new Promise((resolve) => this.#pending.push(() => resolve(result)));
  }

  /** Completes the oldest executing batch. */
  complete(): void {
    this.#pending.shift()?.();
  }

  get executing(): number {
    return this.#pending.length;
  }
}

function job(values: number[], priority?: number, width = 1) {
  const rows = values.length / width;
  return {
    inputs: [{ name: "x", datatype: "FP32" as const, shape: [rows, width], data: Float32Array.from(values) }],
    outputs: [],
    ...(priority !== undefined ? { priority } : {}),
  };
}

function make(executor: BatchExecutor, overrides: Partial<BatcherOptions> = {}) {
  return new DynamicBatcher({
    executor,
    batching: true,
    modelBatches: true,
    maxBatchSize: 8,
    maxQueueDelayMs: 5,
    preferredBatchSizes: [],
    maxQueueSize: 100,
    queueTimeoutMs: 1000,
    ...overrides,
  });
}

/** Lets queued work run and any max-queue-delay wait (5 ms here) expire. */
const flush = () => vi.advanceTimersByTimeAsync(10);

describe("DynamicBatcher", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] }));
  afterEach(() => vi.useRealTimers());

  it("dispatches a lone request at once (no waiting for company that is not coming)", async () => {
    const ex = new FakeExecutor(1, true);
    const b = make(ex, { maxQueueDelayMs: 1000 });
    const r = await b.submit(job([1]));
    expect(ex.batches.map((x) => x.rows)).toEqual([1]);
    expect(Array.from(r.outputs[0]!.data as Float32Array)).toEqual([2]);
    expect(r.batchRows).toBe(1);
  });

  it("forms the next batch while one executes, concatenates along axis 0 and splits outputs back in order", async () => {
    const ex = new FakeExecutor();
    const b = make(ex);
    const first = b.submit(job([1]));
    const rest = [b.submit(job([2])), b.submit(job([3, 4])), b.submit(job([5]))];
    expect(ex.batches.map((x) => x.rows)).toEqual([1]);
    expect(b.depth).toBe(3);
    ex.complete();
    await first;
    await flush();
    expect(ex.batches.map((x) => x.rows)).toEqual([1, 4]);
    expect(Array.from(ex.batches[1]!.inputs[0]!.data as Float32Array)).toEqual([2, 3, 4, 5]);
    ex.complete();
    const results = await Promise.all(rest);
    expect(results.map((r) => Array.from(r.outputs[0]!.data as Float32Array))).toEqual([[4], [6, 8], [10]]);
    expect(results.map((r) => r.outputs[0]!.shape)).toEqual([
      [1, 1],
      [2, 1],
      [1, 1],
    ]);
    expect(results.every((r) => r.batchRows === 4)).toBe(true);
  });

  it("never exceeds maxBatchSize rows", async () => {
    const ex = new FakeExecutor();
    const b = make(ex, { maxBatchSize: 3 });
    const all = [b.submit(job([0])), ...Array.from({ length: 7 }, (_, i) => b.submit(job([i + 1])))];
    ex.complete();
    await flush();
    ex.complete();
    await flush();
    ex.complete();
    await flush();
    ex.complete();
    await Promise.all(all);
    expect(ex.batches.map((x) => x.rows)).toEqual([1, 3, 3, 1]);
  });

  it("does not merge requests whose non-batch shapes differ", async () => {
    const ex = new FakeExecutor();
    const b = make(ex);
    const first = b.submit(job([0]));
    const narrow = b.submit(job([1, 2], undefined, 2));
    const wide = b.submit(job([1, 2, 3], undefined, 3));
    const narrow2 = b.submit(job([3, 4], undefined, 2));
    ex.complete();
    await first;
    await flush();
    expect(ex.batches.at(-1)!.inputs[0]!.shape).toEqual([2, 2]);
    ex.complete();
    await flush();
    expect(ex.batches.at(-1)!.inputs[0]!.shape).toEqual([1, 3]);
    ex.complete();
    await Promise.all([narrow, wide, narrow2]);
  });

  it("runs every request alone when batching is off or the model cannot batch", async () => {
    for (const overrides of [{ batching: false }, { modelBatches: false }]) {
      const ex = new FakeExecutor(1, true);
      const b = make(ex, overrides);
      await Promise.all([b.submit(job([1])), b.submit(job([2])), b.submit(job([3]))]);
      expect(ex.batches.map((x) => x.rows)).toEqual([1, 1, 1]);
    }
  });

  it("keeps one batch executing per slot", async () => {
    const ex = new FakeExecutor(2);
    const b = make(ex, { batching: false });
    const all = [1, 2, 3, 4].map((v) => b.submit(job([v])));
    expect(ex.executing).toBe(2);
    expect(b.depth).toBe(2);
    ex.complete();
    ex.complete();
    await flush();
    expect(ex.executing).toBe(2);
    ex.complete();
    ex.complete();
    await Promise.all(all);
  });

  it("rejects at once with queue_full and a Retry-After when the queue is full", async () => {
    const ex = new FakeExecutor();
    const rejected: string[] = [];
    const b = make(ex, { maxQueueSize: 2, observer: { rejected: (r) => rejected.push(r) } });
    const admitted = [b.submit(job([1])), b.submit(job([2])), b.submit(job([3]))];
    const refused = b.submit(job([4]));
    await expect(refused).rejects.toMatchObject({ reason: "queue_full" });
    await refused.catch((err: BatcherError) => expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1));
    expect(rejected).toEqual(["queue_full"]);
    ex.complete();
    await flush();
    ex.complete();
    await Promise.all(admitted);
  });

  it("times out requests still queued after queueTimeoutMs, leaving the rest", async () => {
    const ex = new FakeExecutor();
    const b = make(ex, { queueTimeoutMs: 100 });
    const running = b.submit(job([1]));
    const waiting = b.submit(job([2]));
    const assertion = expect(waiting).rejects.toMatchObject({ reason: "timeout" });
    await vi.advanceTimersByTimeAsync(150);
    await assertion;
    expect(b.depth).toBe(0);
    ex.complete();
    await expect(running).resolves.toMatchObject({ batchRows: 1 });
  });

  it("serves higher priority first", async () => {
    const ex = new FakeExecutor();
    const b = make(ex, { batching: false, priorityLevels: 2 });
    const first = b.submit(job([1]));
    const low = b.submit(job([2], 1));
    const high = b.submit(job([3], 0));
    ex.complete();
    await first;
    await flush();
    expect(Array.from(ex.batches[1]!.inputs[0]!.data as Float32Array)).toEqual([3]);
    ex.complete();
    await flush();
    ex.complete();
    await Promise.all([low, high]);
  });

  it("dispatches as soon as a preferred batch size forms, without waiting out the delay", async () => {
    const ex = new FakeExecutor(1);
    const b = make(ex, { preferredBatchSizes: [2], maxQueueDelayMs: 10_000, maxBatchSize: 8 });
    // Teach it that bigger batches are cheaper and that requests arrive often.
    b.costModel.record(1, 5);
    b.costModel.record(8, 8);
    const first = b.submit(job([0]));
    const second = b.submit(job([1]));
    const third = b.submit(job([2]));
    ex.complete();
    await first;
    await flush();
    expect(ex.batches.map((x) => x.rows)).toEqual([1, 2]);
    ex.complete();
    await Promise.all([second, third]);
  });

  it("waits up to maxQueueDelayMs for company when bigger batches are cheaper and requests keep coming", async () => {
    const ex = new FakeExecutor(2);
    const b = make(ex, { maxQueueDelayMs: 20, maxBatchSize: 4 });
    b.costModel.record(1, 5);
    b.costModel.record(4, 6);
    const results = [b.submit(job([0]))];
    // Slot 2 is free, yet with requests arriving every millisecond it holds the next batch back…
    for (let i = 1; i <= 3; i++) {
      await vi.advanceTimersByTimeAsync(1);
      results.push(b.submit(job([i])));
    }
    expect(ex.batches.map((x) => x.rows)).toEqual([1]);
    // …until the delay runs out: it then goes with what it has.
    await vi.advanceTimersByTimeAsync(20);
    expect(ex.batches.map((x) => x.rows)).toEqual([1, 3]);
    ex.complete();
    ex.complete();
    await Promise.all(results);
  });

  it("dispatches a waiting batch as soon as it is full", async () => {
    const ex = new FakeExecutor(2);
    const b = make(ex, { maxQueueDelayMs: 1000, maxBatchSize: 4 });
    b.costModel.record(1, 5);
    b.costModel.record(4, 6);
    const results = [b.submit(job([0]))];
    for (let i = 1; i <= 4; i++) {
      await vi.advanceTimersByTimeAsync(1);
      results.push(b.submit(job([i])));
    }
    expect(ex.batches.map((x) => x.rows)).toEqual([1, 4]);
    ex.complete();
    ex.complete();
    await Promise.all(results);
  });

  it("adaptive: does not wait, and caps batches, when bigger batches are not cheaper per row", async () => {
    const ex = new FakeExecutor(1, false, (rows) => 19 * rows * 1.6);
    const b = make(ex, { maxQueueDelayMs: 1000, maxBatchSize: 8 });
    b.costModel.record(1, 19);
    b.costModel.record(8, 19 * 13);
    expect(b.costModel.cap(8)).toBe(1);
    const all = [0, 1, 2, 3].map((v) => b.submit(job([v])));
    for (let i = 0; i < 4; i++) {
      ex.complete();
      await flush();
    }
    await Promise.all(all);
    expect(ex.batches.map((x) => x.rows)).toEqual([1, 1, 1, 1]);
  });

  it("fails a batch's requests when the executor fails, and keeps serving", async () => {
    let fail = true;
    const executor: BatchExecutor = {
      slots: 1,
      execute: async (inputs) => {
        if (fail) throw new Error("boom");
        return { outputs: inputs.map((t) => ({ ...t, name: "y" })), computeMs: 1 };
      },
    };
    const b = make(executor);
    await expect(b.submit(job([1]))).rejects.toMatchObject({ reason: "execution", message: "boom" });
    fail = false;
    await expect(b.submit(job([1]))).resolves.toMatchObject({ batchRows: 1 });
  });

  it("close() fails queued requests and refuses new ones", async () => {
    const ex = new FakeExecutor();
    const b = make(ex);
    const running = b.submit(job([1]));
    const queued = b.submit(job([2]));
    b.close();
    await expect(queued).rejects.toBeInstanceOf(BatcherError);
    await expect(b.submit(job([3]))).rejects.toMatchObject({ reason: "closed" });
    ex.complete();
    await running;
  });
});

describe("CostModel", () => {
  it("says bigger is cheaper for a weight-heavy MLP and caps at max", () => {
    const c = new CostModel();
    c.record(1, 5);
    c.record(32, 16);
    expect(c.biggerIsCheaper(1)).toBe(true);
    expect(c.cap(32)).toBe(32);
  });

  it("caps at the cheapest bucket when per-row cost rises with batch size", () => {
    const c = new CostModel();
    c.record(1, 19);
    c.record(4, 19 * 5);
    c.record(8, 19 * 13);
    expect(c.biggerIsCheaper(1)).toBe(false);
    expect(c.cap(8)).toBe(1);
  });

  it("treats unmeasured sizes as worth exploring", () => {
    const c = new CostModel();
    expect(c.cap(16)).toBe(16);
    expect(c.biggerIsCheaper(4)).toBe(true);
  });
});
