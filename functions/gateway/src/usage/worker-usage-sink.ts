import { Worker } from "node:worker_threads";
import type { BaseEnv, Logger } from "@maas/runtime";
import { Counter, Gauge, type Registry } from "prom-client";
import type { UsageSink } from "../services.js";
import type { UsageEnv } from "./usage-pipeline.js";
import type { UsageRecord } from "./usage-record.js";
import type { FromUsageWorker, ToUsageWorker, UsageWorkerData } from "./usage-worker-protocol.js";

const WORKER_URL = new URL("./usage-worker.ts", import.meta.url);

export interface WorkerUsageSinkOptions {
  env: UsageEnv;
  logger: Logger;
  logLevel: BaseEnv["LOG_LEVEL"];
  loggerBase?: Record<string, string | undefined>;
  /** The gateway's registry: usage_events_total and usage_spool_bytes are read from the worker. */
  registry: Registry;
  /** Records are posted to the worker this often, in one message (default 5 ms). */
  flushMs?: number;
  /** Records waiting for the worker (while it starts or restarts) before new ones are dropped (counted). */
  maxPending?: number;
}

/**
 * The gateway's usage sink: records are posted in batches to the usage worker (usage-worker.ts),
 * which builds, validates, encodes and publishes the events, spools them to disk while Kafka is
 * away and replays them in order. What this saves the request thread: the event's validation and
 * encoding, the Kafka client and its allocations (about a sixth of the gateway's CPU per request,
 * and the stalls the Kafka client caused after idle periods: bench/results/gateway.json).
 *
 * A worker that dies is logged, counted (`usage_worker_restarts_total`) and replaced; the new one
 * replays the spool. Records it held in memory are lost, as a crashed process's would be.
 *
 * @example
 * const usage = new WorkerUsageSink({ env, logger, logLevel: env.LOG_LEVEL, registry });
 * await usage.start();
 * usage.record(record);
 * await usage.close();
 */
export class WorkerUsageSink implements UsageSink {
  private worker: Worker | undefined;
  private ready = false;
  /** Set at close(): no restart after this. */
  private closing = false;
  /** Set once close() posted the last records: later ones are dropped (counted). */
  private closed = false;
  private pending: UsageRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;
  private readonly maxPending: number;
  private readonly outcomes: Counter<"outcome">;
  private readonly restarts: Counter;
  /** The worker's counts at its last report, per outcome (the mirror adds what changed since). */
  private seen: Record<string, number> = {};
  private spoolBytes = 0;
  private nextId = 0;
  private readonly waiting = new Map<number, () => void>();
  private onReady: (() => void) | undefined;
  private starting: Promise<void> | undefined;
  private onClosed: (() => void) | undefined;
  private lastDropLog = 0;
  private droppedSinceLog = 0;

  constructor(private readonly options: WorkerUsageSinkOptions) {
    this.flushMs = options.flushMs ?? 5;
    this.maxPending = options.maxPending ?? 100_000;
    const self = this;
    this.outcomes = new Counter({
      name: "usage_events_total",
      help: "Usage events by outcome: published, spooled, replayed, dropped",
      labelNames: ["outcome"],
      registers: [options.registry],
      async collect() {
        await self.refresh();
      },
    });
    new Gauge({
      name: "usage_spool_bytes",
      help: "Bytes of usage events waiting on disk for Kafka",
      registers: [options.registry],
      async collect() {
        await self.refresh();
        this.set(self.spoolBytes);
      },
    });
    this.restarts = new Counter({
      name: "usage_worker_restarts_total",
      help: "Usage worker threads that died and were replaced",
      registers: [options.registry],
    });
  }

  /** Starts the worker; resolves once it opened the spool (and started replaying what it holds). */
  start(): Promise<void> {
    return this.spawn();
  }

  record(usage: UsageRecord): void {
    if (this.closed) {
      this.drop(1, "usage sink closed");
      return;
    }
    if (this.pending.length >= this.maxPending) {
      this.drop(1, "usage worker unavailable and its queue is full");
      return;
    }
    this.pending.push(usage);
    if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  /** Posts what waits, stops the worker after it flushed to Kafka or the spool. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // A worker still starting (or replacing a dead one) first takes what waits for it.
    await this.starting?.catch(() => undefined);
    this.flush();
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    const closed = new Promise<void>((resolve) => {
      this.onClosed = resolve;
      worker.once("exit", () => resolve());
    });
    this.post({ kind: "close" });
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 30_000).unref());
    await Promise.race([closed, timeout]);
    await this.refresh().catch(() => undefined);
    await worker.terminate();
  }

  private flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.ready || this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    this.post({ kind: "records", records });
  }

  private post(msg: ToUsageWorker): void {
    this.worker?.postMessage(msg);
  }

  private spawn(): Promise<void> {
    const o = this.options;
    const data: UsageWorkerData = {
      maasUsageWorker: { env: o.env, logLevel: o.logLevel, loggerBase: o.loggerBase ?? {} },
    };
    // From sources the entry is TypeScript and needs tsx's loader; a bundle rewrote it to `.js`.
    const execArgv = WORKER_URL.pathname.endsWith(".ts") ? ["--import", "tsx"] : [];
    const worker = new Worker(WORKER_URL, { workerData: data, execArgv });
    this.worker = worker;
    this.ready = false;
    this.seen = {}; // a new worker counts from zero
    const started = new Promise<void>((resolve, reject) => {
      this.onReady = resolve;
      worker.once("error", reject);
      worker.once("exit", () => reject(new Error("usage worker exited before it was ready")));
    });
    this.starting = started;
    started.catch(() => undefined);
    worker.on("message", (msg: FromUsageWorker) => this.received(msg));
    worker.on("error", (err) => o.logger.error({ err }, "usage worker failed"));
    worker.once("exit", (code) => {
      for (const done of this.waiting.values()) done();
      this.waiting.clear();
      if (this.closing || this.worker !== worker) return;
      this.restarts.inc();
      o.logger.error({ code }, "usage worker exited: replacing it (events it held in memory are lost)");
      void this.spawn().catch((err: unknown) => o.logger.error({ err }, "usage worker restart failed"));
    });
    return started;
  }

  private received(msg: FromUsageWorker): void {
    switch (msg.kind) {
      case "ready":
        this.ready = true;
        this.onReady?.();
        this.flush();
        return;
      case "metrics":
        for (const [outcome, value] of Object.entries(msg.outcomes)) {
          const delta = value - (this.seen[outcome] ?? 0);
          if (delta > 0) this.outcomes.inc({ outcome }, delta);
        }
        this.seen = msg.outcomes;
        this.spoolBytes = msg.spoolBytes;
        this.waiting.get(msg.id)?.();
        this.waiting.delete(msg.id);
        return;
      case "closed":
        this.onClosed?.();
        return;
    }
  }

  /** Asks the worker for its counts (bounded: a busy or dead worker leaves the last ones). */
  private refresh(): Promise<void> {
    if (this.worker === undefined || !this.ready) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve();
      }, 1000);
      timer.unref();
      this.waiting.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.post({ kind: "metrics", id });
    });
  }

  private drop(n: number, reason: string): void {
    this.outcomes.inc({ outcome: "dropped" }, n);
    this.droppedSinceLog += n;
    const now = Date.now();
    if (now - this.lastDropLog < 10_000) return;
    this.options.logger.error({ dropped: this.droppedSinceLog, reason }, "usage records dropped");
    this.lastDropLog = now;
    this.droppedSinceLog = 0;
  }
}
