import { type EventPublisher, type MaasEvent, validateEvent } from "@maas/events";
import { CloudEvent } from "cloudevents";
import { Counter, Gauge, type Registry } from "prom-client";
import type { DiskSpool } from "./disk-spool.js";
import { type UsageRecord, usageEvent } from "./usage-record.js";

export interface UsageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface UsageEmitterOptions {
  publisher: EventPublisher;
  /** Absent: events that cannot be published are dropped (counted): embedded mode only. */
  spool?: DiskSpool | undefined;
  registry: Registry;
  logger: UsageLogger;
  /** Events awaiting the publisher's ack before new ones go straight to the spool (memory bound). */
  maxInflight?: number;
  /** How often a non-empty spool is replayed (default 1 s; backs off to 10 s while failing). */
  replayIntervalMs?: number;
  /**
   * Events emitted within this many milliseconds go to the publisher in one `publish` call (default
   * 0: one call per event, at once). One call per batch instead of per event is what makes a usage
   * event cheap for the gateway: the publisher's promise, ticket and bookkeeping are paid per batch.
   */
  lingerMs?: number;
  /** A batch is published as soon as it holds this many events (default 1000). */
  maxBatchSize?: number;
}

/**
 * Usage events off the critical path: `emit` is synchronous and never throws; events gathered for
 * `lingerMs` go to the publisher in one call, and whatever it cannot take (Kafka unreachable, or too many unacknowledged)
 * goes to the disk spool, which is replayed in order when the publisher works again. While the
 * spool holds anything, new events are appended behind it rather than overtaking it.
 *
 * Spool full: the event is DROPPED, counted in `usage_events_total{outcome="dropped"}` and logged
 * (at most every 10 s). Rejecting inference traffic because metering is behind would turn a Kafka
 * outage into a customer outage; the cap (default 1 GiB ≈ 2 M events) covers hours of outage, and
 * the counter is what alerts fire on (the lost events are under-billing, never over-billing).
 *
 * @example
 * const usage = new UsageEmitter({ publisher: kafkaPublisher, spool, registry, logger });
 * await usage.start();
 * usage.emit(createEvent(events.inferenceCompleted, { source: "/gateway", data }));
 */
export class UsageEmitter {
  private readonly publisher: EventPublisher;
  private readonly spool: DiskSpool | undefined;
  private readonly logger: UsageLogger;
  private readonly maxInflight: number;
  private readonly replayIntervalMs: number;
  private readonly outcomes: Counter<"outcome">;
  private inflight = 0;
  private spooling = false;
  private readonly lingerMs: number;
  private readonly maxBatchSize: number;
  /** Emitted, waiting for the linger timer (or a full batch) to be published together. */
  private batch: MaasEvent[] = [];
  private lingerTimer: NodeJS.Timeout | undefined;
  /** Batches handed to the publisher and not yet settled, by emission sequence. */
  private readonly unacked = new Map<number, MaasEvent[]>();
  private seq = 0;
  /**
   * Set at the first failed publish until every publish then in flight has settled: their failures
   * and everything emitted meanwhile are held here and spooled together, in emission order (a later
   * batch failing after newer events went to the spool would otherwise overtake them on replay).
   */
  private draining: { failed: Map<number, MaasEvent[]>; held: MaasEvent[] } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private replayDelayMs: number;
  private replaying: Promise<void> | undefined;
  private lastDropLog = 0;
  private closed = false;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(options: UsageEmitterOptions) {
    this.publisher = options.publisher;
    this.spool = options.spool;
    this.logger = options.logger;
    this.maxInflight = options.maxInflight ?? 20_000;
    this.replayIntervalMs = options.replayIntervalMs ?? 1_000;
    this.replayDelayMs = this.replayIntervalMs;
    this.lingerMs = options.lingerMs ?? 0;
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 1000);
    const registry = options.registry;
    this.outcomes =
      (registry.getSingleMetric("usage_events_total") as Counter<"outcome"> | undefined) ??
      new Counter({
        name: "usage_events_total",
        help: "Usage events by outcome: published, spooled, replayed, dropped",
        labelNames: ["outcome"],
        registers: [registry],
      });
    const spool = this.spool;
    if (registry.getSingleMetric("usage_spool_bytes") === undefined) {
      new Gauge({
        name: "usage_spool_bytes",
        help: "Bytes of usage events waiting on disk for Kafka",
        registers: [registry],
        collect() {
          this.set(spool?.bytes ?? 0);
        },
      });
    }
  }

  /** Opens the spool and replays what a previous run left. */
  async start(): Promise<void> {
    if (this.spool === undefined) return;
    await this.spool.open();
    if (this.spool.hasData) {
      this.spooling = true;
      this.logger.warn(
        { bytes: this.spool.bytes },
        "usage spool holds events from a previous run: replaying",
      );
      this.scheduleReplay(0);
    }
  }

  /** Hands the event off; returns at once. */
  emit(event: MaasEvent): void {
    if (this.closed) {
      this.drop([event], "emitter closed");
      return;
    }
    this.batch.push(event);
    if (this.lingerMs <= 0 || this.batch.length >= this.maxBatchSize) this.flushBatch();
    else if (this.lingerTimer === undefined) {
      this.lingerTimer = setTimeout(() => this.flushBatch(), this.lingerMs);
    }
  }

  /** The gathered batch to the publisher, or behind a failure's drain, or to the spool. */
  private flushBatch(): void {
    if (this.lingerTimer !== undefined) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    if (this.draining !== undefined) {
      this.draining.held.push(...batch);
      return;
    }
    if (this.spooling || this.inflight >= this.maxInflight) {
      this.toSpool(batch);
      return;
    }
    this.inflight += batch.length;
    const seq = this.seq++;
    this.unacked.set(seq, batch);
    const sent = this.publisher.publish(batch).then(
      () => {
        this.settled(seq, batch.length);
        this.outcomes.inc({ outcome: "published" }, batch.length);
      },
      (err: unknown) => {
        if (this.draining === undefined && !this.spooling) {
          this.logger.warn({ err }, "usage publish failed: spooling to disk until it works again");
          this.spooling = true;
          this.draining = { failed: new Map(), held: [] };
        }
        if (this.draining !== undefined) this.draining.failed.set(seq, batch);
        else this.toSpool(batch);
        this.settled(seq, batch.length);
      },
    );
    this.track(sent);
  }

  /** A finished call's usage: built into its event and emitted; one that cannot be built is dropped (counted). */
  record(usage: UsageRecord): void {
    let event: MaasEvent;
    try {
      event = usageEvent(usage);
    } catch (err) {
      this.unbuildable(err);
      return;
    }
    this.emit(event);
  }

  /** An event that could not even be built: counted as dropped, with its reason in the log. */
  unbuildable(err: unknown): void {
    this.outcomes.inc({ outcome: "dropped" });
    this.logger.error({ err }, "usage event could not be built: dropped");
  }

  /** A publish settled; the last one of a failure's drain spools the drain, in emission order. */
  private settled(seq: number, events: number): void {
    this.inflight -= events;
    this.unacked.delete(seq);
    const draining = this.draining;
    if (draining === undefined || this.unacked.size > 0) return;
    this.draining = undefined;
    const failed = [...draining.failed].sort(([a], [b]) => a - b).flatMap(([, batch]) => batch);
    this.toSpool([...failed, ...draining.held]);
  }

  /** Waits for in-flight publishes and spool writes; stops replaying. Events left on disk stay for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.flushBatch();
    // Events held behind a failure's drain are spooled when it ends (the pending publishes below).
    if (this.timer) clearTimeout(this.timer);
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    await this.replaying;
    await this.spool?.flush();
  }

  /** True while events wait on disk. */
  get isSpooling(): boolean {
    return this.spooling;
  }

  private toSpool(events: MaasEvent[]): void {
    if (this.spool === undefined) {
      this.drop(events, "publisher failed and no spool is configured");
      return;
    }
    this.spooling = true;
    const written = this.spool.append(events.map((e) => JSON.stringify(e))).then(
      (n) => {
        this.outcomes.inc({ outcome: "spooled" }, n);
        if (n < events.length) this.drop(events.slice(n), "usage spool is full");
        this.scheduleReplay(this.replayDelayMs);
      },
      (err: unknown) => {
        this.logger.error({ err }, "usage spool write failed");
        this.drop(events, "usage spool write failed");
      },
    );
    this.track(written);
  }

  private drop(events: MaasEvent[], why: string): void {
    this.outcomes.inc({ outcome: "dropped" }, events.length);
    const now = Date.now();
    if (now - this.lastDropLog > 10_000) {
      this.lastDropLog = now;
      this.logger.error(
        { dropped: events.length, eventIds: events.slice(0, 5).map((e) => e.id) },
        `usage events dropped: ${why}`,
      );
    }
  }

  private scheduleReplay(delayMs: number): void {
    if (this.timer !== undefined || this.closed || this.spool === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.replaying = this.replay();
    }, delayMs);
    this.timer.unref();
  }

  private async replay(): Promise<void> {
    const spool = this.spool;
    if (spool === undefined) return;
    try {
      // Wait for the writes already queued so they replay in this round.
      await spool.flush();
      const n = await spool.replay(async (lines) => {
        await this.publisher.publish(
          lines.map((l) => validateEvent(new CloudEvent(JSON.parse(l) as object, false))),
        );
        this.outcomes.inc({ outcome: "replayed" }, lines.length);
      });
      await spool.flush();
      if (!spool.hasData) {
        this.spooling = false;
        this.replayDelayMs = this.replayIntervalMs;
        if (n > 0) this.logger.info({ replayed: n }, "usage spool replayed: publishing directly again");
        return;
      }
    } catch (err) {
      this.replayDelayMs = Math.min(this.replayDelayMs * 2, 10_000);
      this.logger.warn({ err, retryInMs: this.replayDelayMs }, "usage spool replay failed");
    }
    this.scheduleReplay(this.replayDelayMs);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
