import { describe, expect, it } from "vitest";
import { LingerBatcher } from "./linger-batcher.js";

function deferred() {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A batcher whose sends are held until the test settles them. */
function held(maxBatchSize: number, lingerMs = 1_000) {
  const sends: { batch: number[]; done: ReturnType<typeof deferred> }[] = [];
  const batcher = new LingerBatcher<number>({
    maxBatchSize,
    lingerMs,
    send: (batch) => {
      const done = deferred();
      sends.push({ batch: [...batch], done });
      return done.promise;
    },
  });
  return { batcher, sends };
}

/** "pending", "resolved" or "rejected", after letting microtasks run. */
async function state(p: Promise<void>): Promise<string> {
  let s = "pending";
  p.then(
    () => {
      s = "resolved";
    },
    () => {
      s = "rejected";
    },
  );
  await new Promise((r) => setImmediate(r));
  return s;
}

describe("LingerBatcher", () => {
  it("cuts full batches at maxBatchSize, in order, and resolves a caller only once all its batches are acked", async () => {
    const { batcher, sends } = held(3);
    const a = batcher.add([1, 2, 3, 4, 5, 6, 7]);
    expect(sends.map((s) => s.batch)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    sends[0]?.done.resolve();
    sends[2]?.done.resolve();
    expect(await state(a)).toBe("pending");
    sends[1]?.done.resolve();
    expect(await state(a)).toBe("resolved");
  });

  it("gathers callers within the linger window into one send", async () => {
    const sent: number[][] = [];
    const batcher = new LingerBatcher<number>({
      maxBatchSize: 100,
      lingerMs: 20,
      send: async (batch) => void sent.push([...batch]),
    });
    const a = batcher.add([1, 2]);
    const b = batcher.add([3]);
    expect(sent).toEqual([]);
    expect(batcher.buffered).toBe(3);
    await Promise.all([a, b]);
    expect(sent).toEqual([[1, 2, 3]]);
    expect(batcher.buffered).toBe(0);
  });

  it("rejects exactly the callers with items in a failed batch", async () => {
    const { batcher, sends } = held(3);
    const a = batcher.add([1]);
    const b = batcher.add([2, 3, 4]); // 4 buffered ≥ 3: everything goes, as [1,2,3] and [4]
    expect(sends.map((s) => s.batch)).toEqual([[1, 2, 3], [4]]);
    const c = batcher.add([5]); // lingers
    const bError = b.catch((err: unknown) => err);
    sends[1]?.done.reject(new Error("broker down"));
    sends[0]?.done.resolve();
    expect(await state(a)).toBe("resolved");
    expect(await state(b)).toBe("rejected");
    expect(String(await bError)).toBe("Error: broker down");
    expect(await state(c)).toBe("pending");
    const flushed = batcher.flush();
    expect(sends.map((s) => s.batch)).toEqual([[1, 2, 3], [4], [5]]);
    sends[2]?.done.resolve();
    await flushed;
    expect(await state(c)).toBe("resolved");
  });

  it("flush sends what lingers at once and waits for sends in flight, without rejecting", async () => {
    const { batcher, sends } = held(10, 60_000);
    const a = batcher.add([1, 2]);
    const aError = a.catch((err: unknown) => err);
    const flushed = batcher.flush();
    expect(sends.map((s) => s.batch)).toEqual([[1, 2]]);
    expect(await state(flushed)).toBe("pending");
    sends[0]?.done.reject(new Error("nope"));
    expect(String(await aError)).toBe("Error: nope");
    await expect(flushed).resolves.toBeUndefined();
  });

  it("resolves an empty add at once without sending", async () => {
    const { batcher, sends } = held(2);
    await batcher.add([]);
    expect(sends).toEqual([]);
  });
});
