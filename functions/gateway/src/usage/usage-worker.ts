// The usage worker (worker_threads entry): builds, validates, encodes and publishes the gateway's
// usage events, with the disk spool behind Kafka, off the thread that answers requests. The gateway
// posts plain records in batches (usage/worker-usage-sink.ts).
import { parentPort, workerData } from "node:worker_threads";
import { createLogger } from "@maas/runtime";
import { type Counter, Registry } from "prom-client";
import { buildUsagePipeline } from "./usage-pipeline.js";
import type { FromUsageWorker, ToUsageWorker, UsageWorkerData } from "./usage-worker-protocol.js";

const port = parentPort;
if (port === null) throw new Error("usage-worker.ts runs as a worker thread");
const { env, logLevel, loggerBase } = (workerData as UsageWorkerData).maasUsageWorker;
const logger = createLogger({ name: "gateway", level: logLevel, base: { ...loggerBase, thread: "usage" } });
const registry = new Registry();
const pipeline = buildUsagePipeline(env, { logger, registry });
const send = (msg: FromUsageWorker) => port.postMessage(msg);

async function outcomes(): Promise<Record<string, number>> {
  const counter = registry.getSingleMetric("usage_events_total") as Counter<"outcome"> | undefined;
  const out: Record<string, number> = {};
  for (const v of (await counter?.get())?.values ?? []) {
    out[String(v.labels.outcome)] = v.value;
  }
  return out;
}

port.on("message", (msg: ToUsageWorker) => {
  switch (msg.kind) {
    case "records":
      for (const record of msg.records) pipeline.usage.record(record);
      return;
    case "metrics":
      void outcomes().then((o) =>
        send({ kind: "metrics", id: msg.id, outcomes: o, spoolBytes: pipeline.spool?.bytes ?? 0 }),
      );
      return;
    case "close":
      void pipeline
        .close()
        .catch((err: unknown) => logger.error({ err }, "usage worker: close failed"))
        .finally(() => {
          send({ kind: "closed" });
          port.close();
        });
      return;
  }
});

await pipeline.usage.start();
send({ kind: "ready" });
