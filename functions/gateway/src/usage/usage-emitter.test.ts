import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, events, type MaasEvent, MemoryPublisher } from "@maas/events";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { DiskSpool } from "./disk-spool.js";
import { UsageEmitter } from "./usage-emitter.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir() {
  const d = await mkdtemp(join(tmpdir(), "spool-"));
  dirs.push(d);
  return d;
}
const silent = { info() {}, warn() {}, error() {} };

function usageEvent(i: number) {
  return createEvent(events.inferenceCompleted, {
    source: "/test",
    data: {
      tenantId: "tnt_a",
      deploymentId: "dep_1",
      modelId: "mdl_1",
      versionId: "mver_1",
      requestId: `req_${i}`,
      status: "ok",
      startedAt: new Date().toISOString(),
      durationMs: 1,
      inputBytes: 1,
      outputBytes: 1,
      costMicros: 1,
    },
  });
}

async function count(registry: Registry, outcome: string) {
  const m = await registry.getSingleMetric("usage_events_total")?.get();
  return m?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe("UsageEmitter with a disk spool", () => {
  it("spools while the publisher fails and replays everything, in order, when it works again", async () => {
    const publisher = new MemoryPublisher();
    const spool = new DiskSpool({ dir: await tempDir(), maxBytes: 10 * 1024 * 1024, segmentBytes: 4096 });
    const registry = new Registry();
    const usage = new UsageEmitter({ publisher, spool, registry, logger: silent, replayIntervalMs: 20 });
    await usage.start();
    usage.emit(usageEvent(0));
    await expect.poll(() => publisher.published.length).toBe(1);
    publisher.failWith = new Error("kafka down");
    for (let i = 1; i <= 200; i++) usage.emit(usageEvent(i));
    await expect.poll(() => count(registry, "spooled")).toBe(200);
    expect(usage.isSpooling).toBe(true);
    publisher.failWith = undefined;
    await expect.poll(() => publisher.published.length, { timeout: 5000 }).toBe(201);
    expect(publisher.published.map((e) => (e.data as { requestId: string }).requestId)).toEqual(
      Array.from({ length: 201 }, (_, i) => `req_${i}`),
    );
    await expect.poll(() => usage.isSpooling).toBe(false);
    await usage.close();
    expect(spool.bytes).toBe(0);
  });

  it("keeps emission order across the failure boundary: publishes still in flight spool before newer events", async () => {
    const settle: Array<(err?: Error) => void> = [];
    const delivered: string[] = [];
    let down = true;
    const publisher = {
      publish(events: readonly MaasEvent[]): Promise<void> {
        if (!down) {
          for (const e of events) delivered.push((e.data as { requestId: string }).requestId);
          return Promise.resolve();
        }
        // The first two publishes hang until the test settles them; later ones (replays) fail at once.
        if (settle.length >= 2) return Promise.reject(new Error("kafka down"));
        return new Promise<void>((resolve, reject) => settle.push((err) => (err ? reject(err) : resolve())));
      },
    };
    const spool = new DiskSpool({ dir: await tempDir(), maxBytes: 1 << 20 });
    const registry = new Registry();
    const usage = new UsageEmitter({ publisher, spool, registry, logger: silent, replayIntervalMs: 20 });
    await usage.start();
    usage.emit(usageEvent(0));
    usage.emit(usageEvent(1));
    // The first publish fails while the second is still out; newer events must wait behind it.
    settle[0]?.(new Error("kafka down"));
    await new Promise((r) => setTimeout(r, 5));
    usage.emit(usageEvent(2));
    usage.emit(usageEvent(3));
    settle[1]?.(new Error("kafka down"));
    await expect.poll(() => count(registry, "spooled")).toBe(4);
    down = false;
    await expect.poll(() => delivered.length, { timeout: 5000 }).toBe(4);
    expect(delivered).toEqual(["req_0", "req_1", "req_2", "req_3"]);
    await usage.close();
  });

  it("gathers the events of a linger window into one publish, and spools a failed batch whole, in order", async () => {
    const calls: string[][] = [];
    let fail = false;
    const publisher = {
      publish(batch: readonly MaasEvent[]): Promise<void> {
        calls.push(batch.map((e) => (e.data as { requestId: string }).requestId));
        return fail ? Promise.reject(new Error("kafka down")) : Promise.resolve();
      },
    };
    const spool = new DiskSpool({ dir: await tempDir(), maxBytes: 1 << 20 });
    const registry = new Registry();
    const usage = new UsageEmitter({
      publisher,
      spool,
      registry,
      logger: silent,
      lingerMs: 30,
      maxBatchSize: 4,
      replayIntervalMs: 60_000,
    });
    await usage.start();
    for (let i = 0; i < 3; i++) usage.emit(usageEvent(i));
    expect(calls).toEqual([]);
    await expect.poll(() => calls.length).toBe(1);
    expect(calls[0]).toEqual(["req_0", "req_1", "req_2"]);
    // A full batch goes at once, without waiting for the timer.
    for (let i = 3; i < 7; i++) usage.emit(usageEvent(i));
    expect(calls[1]).toEqual(["req_3", "req_4", "req_5", "req_6"]);
    await expect.poll(() => count(registry, "published")).toBe(7);
    fail = true;
    for (let i = 7; i < 9; i++) usage.emit(usageEvent(i));
    await expect.poll(() => count(registry, "spooled")).toBe(2);
    expect(calls[2]).toEqual(["req_7", "req_8"]);
    await usage.close();
    const lines: string[] = [];
    await spool.replay(async (batch) => {
      lines.push(...batch);
    });
    expect(lines.map((l) => (JSON.parse(l) as { data: { requestId: string } }).data.requestId)).toEqual([
      "req_7",
      "req_8",
    ]);
  });

  it("counts and drops what does not fit once the spool is full", async () => {
    const publisher = new MemoryPublisher();
    publisher.failWith = new Error("kafka down");
    const spool = new DiskSpool({ dir: await tempDir(), maxBytes: 3000 });
    const registry = new Registry();
    const usage = new UsageEmitter({ publisher, spool, registry, logger: silent, replayIntervalMs: 60_000 });
    await usage.start();
    for (let i = 0; i < 20; i++) usage.emit(usageEvent(i));
    await usage.close();
    const spooled = await count(registry, "spooled");
    const dropped = await count(registry, "dropped");
    expect(spooled).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    expect(spooled + dropped).toBe(20);
    expect(spool.bytes).toBeLessThanOrEqual(3000);
  });

  it("replays what a previous process left on disk at start", async () => {
    const dir = await tempDir();
    const first = new DiskSpool({ dir, maxBytes: 1 << 20 });
    await first.open();
    await first.append([JSON.stringify(usageEvent(1)), JSON.stringify(usageEvent(2))]);
    const publisher = new MemoryPublisher();
    const usage = new UsageEmitter({
      publisher,
      spool: new DiskSpool({ dir, maxBytes: 1 << 20 }),
      registry: new Registry(),
      logger: silent,
    });
    await usage.start();
    await expect.poll(() => publisher.published.length).toBe(2);
    await usage.close();
    expect((await readdir(dir)).filter((f) => f.endsWith(".ndjson"))).toEqual([]);
  });
});
