// The usage worker thread (functions/gateway/src/usage/worker-usage-sink.ts) against real Kafka:
// records become events on the topic, its counts show on the gateway's registry, a bad record is
// counted as dropped, and a worker that dies is replaced.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newId } from "@maas/db/ids";
import { WorkerUsageSink } from "@maas/fn-gateway/usage";
import { captureLogger } from "@maas/runtime/testing";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopic, deleteTopic, kafkaBrokers, readTopic, topicCount, uniqueId, until } from "./harness.js";

const topic = `maas.usage.worker-${uniqueId()}`;
let spoolDir: string;

beforeAll(async () => {
  await createTopic(kafkaBrokers, topic, 3);
  spoolDir = await mkdtemp(join(tmpdir(), "usage-worker-"));
});
afterAll(async () => {
  await deleteTopic(kafkaBrokers, topic).catch(() => undefined);
  await rm(spoolDir, { recursive: true, force: true });
});

const tenantId = newId("tnt");
const record = (requestId: string) => ({
  tenantId,
  deploymentId: newId("dep"),
  modelId: newId("mdl"),
  versionId: newId("mver"),
  requestId,
  status: "ok" as const,
  startedAt: new Date().toISOString(),
  durationMs: 1.5,
  inputBytes: 10,
  outputBytes: 20,
  costMicros: 100,
});

async function metric(registry: Registry, name: string, outcome?: string): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values
    .filter((v) => outcome === undefined || v.labels.outcome === outcome)
    .reduce((n, v) => n + v.value, 0);
}

describe("usage worker thread", () => {
  it("publishes every record as one event, counts it on the gateway's registry, drops a bad one, survives its own death", async () => {
    const registry = new Registry();
    const { logger, lines } = captureLogger();
    const sink = new WorkerUsageSink({
      env: {
        KAFKA_BROKERS: kafkaBrokers,
        USAGE_TOPIC: topic,
        USAGE_SPOOL_DIR: spoolDir,
        USAGE_SPOOL_MAX_BYTES: 1 << 30,
        USAGE_LINGER_MS: 20,
        KAFKA_BROKER_ADDRESS_MAP: undefined,
        K_SINK: undefined,
      },
      logger,
      logLevel: "warn",
      registry,
    });
    await sink.start();
    for (let i = 0; i < 500; i++) sink.record(record(`req_a${i}`));
    // Not an id the catalog accepts: the worker cannot build the event.
    sink.record({ ...record("req_bad"), tenantId: "not-a-tenant" });
    await until(async () => (await metric(registry, "usage_events_total", "published")) === 500, "published");
    expect(await metric(registry, "usage_events_total", "dropped")).toBe(1);
    expect(await metric(registry, "usage_spool_bytes")).toBe(0);

    // The worker dies: it is replaced, and records go on.
    const worker = (sink as unknown as { worker: { terminate(): Promise<number> } }).worker;
    await worker.terminate();
    await until(async () => (await metric(registry, "usage_worker_restarts_total")) === 1, "restart");
    expect(lines.some((l) => l.msg?.includes("usage worker exited"))).toBe(true);
    for (let i = 0; i < 100; i++) sink.record(record(`req_b${i}`));
    await sink.close();

    await until(async () => (await topicCount(kafkaBrokers, topic)) >= 600, "topic count", 30_000);
    const events = await readTopic(kafkaBrokers, topic);
    const ids = new Set(events.map((e) => e.id));
    expect(ids.size).toBe(events.length);
    expect(new Set(events.map((e) => e.requestId))).toEqual(
      new Set([
        ...Array.from({ length: 500 }, (_, i) => `req_a${i}`),
        ...Array.from({ length: 100 }, (_, i) => `req_b${i}`),
      ]),
    );
    expect(events.every((e) => e.tenantId === tenantId)).toBe(true);
  }, 90_000);
});
