import type { Device } from "@maas/db";
import { type EventData, events, type MaasEvent } from "@maas/events";
import { SharedExclusiveGate } from "./gate.js";
import type { MeteringMetrics } from "./metering-metrics.js";
import { periodOfDate, previousPeriod } from "./period.js";
import { costMicros, PriceBook } from "./prices.js";
import type { SpendSink } from "./spend-sink.js";
import type { InsertedTotal, UsageRow, UsageStore } from "./usage-store.js";

type InferenceCompleted = EventData<typeof events.inferenceCompleted>;

export interface IngestLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface UsageIngestorOptions {
  store: UsageStore;
  spend: SpendSink;
  clock?: () => Date;
  /** How long prices, plans and misses are trusted (default 60 s); devices never change. */
  cacheTtlMs?: number;
  logger?: IngestLogger;
  /** Event, spend and batch-time metrics; none when omitted (tests). */
  metrics?: MeteringMetrics;
}

export interface IngestResult {
  received: number;
  /** Events seen for the first time (rows inserted). */
  inserted: number;
  /** Redeliveries and in-batch repeats: nothing changed for them. */
  duplicates: number;
  late: number;
  totals: InsertedTotal[];
}

const quiet: IngestLogger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * Turns `inference.completed` events into priced usage rows, stores a batch exactly once and then
 * advances the spend counters by what was new. The gateway's `costMicros` in the event is its
 * admission-time ESTIMATE (what the budget check reserved); the billed cost is computed here, once,
 * from the price in force, and stored with the row: prices are the metering's to apply, and an
 * estimate from a stale gateway price table must never reach an invoice.
 *
 * Between the Postgres commit and the Redis increment a crash loses the increment (the redelivered
 * events are duplicates and add nothing): Redis reads low by at most one batch until the next
 * reconcile (at start and every METERING_RECONCILE_S), which copies the Postgres truth. Within one
 * process a reconcile never interleaves with a batch (a gate); a reconcile in one replica racing a
 * batch of another can be off by that batch until the next reconcile.
 *
 * @example
 * const ingestor = new UsageIngestor({ store: new PostgresUsageStore(db), spend: new MemorySpendSink() });
 * await ingestor.ingest(eventsFromKafka); // { inserted, duplicates, … }
 */
export class UsageIngestor {
  readonly #store: UsageStore;
  readonly #spend: SpendSink;
  readonly #clock: () => Date;
  readonly #ttl: number;
  readonly #logger: IngestLogger;
  readonly #metrics: MeteringMetrics | undefined;
  #book: { value: PriceBook; at: number } | undefined;
  readonly #devices = new Map<string, Device>();
  readonly #plans = new Map<string, { plan: string; at: number }>();
  readonly #gate = new SharedExclusiveGate();

  constructor(options: UsageIngestorOptions) {
    this.#store = options.store;
    this.#spend = options.spend;
    this.#clock = options.clock ?? (() => new Date());
    this.#ttl = options.cacheTtlMs ?? 60_000;
    this.#logger = options.logger ?? quiet;
    this.#metrics = options.metrics;
  }

  get store(): UsageStore {
    return this.#store;
  }

  ingest(batch: readonly MaasEvent[]): Promise<IngestResult> {
    return this.#gate.shared(async () => {
      const end = this.#metrics?.batchDuration.startTimer();
      try {
        const result = await this.#ingest(batch);
        this.#record(result);
        return result;
      } finally {
        end?.();
      }
    });
  }

  /** After the commit, so a failed (and redelivered) batch is counted once, when it succeeds. */
  #record(result: IngestResult): void {
    const m = this.#metrics;
    if (!m) return;
    if (result.inserted > 0) m.events.inc({ outcome: "inserted" }, result.inserted);
    if (result.duplicates > 0) m.events.inc({ outcome: "duplicate" }, result.duplicates);
    // Per-period totals of one tenant add up; Number is exact below 2^53 micros (9 billion units).
    for (const t of result.totals)
      if (t.costMicros > 0n) m.spendMicros.inc({ tenant: t.tenantId }, Number(t.costMicros));
  }

  async #ingest(batch: readonly MaasEvent[]): Promise<IngestResult> {
    const seen = new Set<string>();
    const usage: { event: MaasEvent; data: InferenceCompleted }[] = [];
    for (const event of batch) {
      if (event.type !== events.inferenceCompleted.type) continue;
      const key = `${event.source}\u0000${event.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      usage.push({ event, data: event.data as InferenceCompleted });
    }
    const received = batch.length;
    if (usage.length === 0) return { received, inserted: 0, duplicates: received, late: 0, totals: [] };

    const now = this.#clock();
    const book = await this.#priceBook(now.getTime());
    const devices = await this.#devicesOf(usage.map((u) => u.data.deploymentId));
    const plans = await this.#plansOf(
      usage.map((u) => u.data.tenantId),
      now.getTime(),
    );

    const rows: UsageRow[] = usage.map(({ event, data }) => {
      const occurredAt = new Date(data.startedAt);
      const device = devices.get(data.deploymentId) ?? "cpu";
      // One inference request = one item until the event carries a batch size.
      const items = 1;
      // Whole milliseconds, rounded up: a started millisecond of compute is billed.
      const computeMs = Math.ceil(data.durationMs);
      const price = book.priceFor({
        tenantId: data.tenantId,
        plan: plans.get(data.tenantId) ?? "default",
        device,
        at: occurredAt,
      });
      if (!price) throw new Error(`no price for device ${device} (the default plan must have one)`);
      return {
        source: event.source,
        eventId: event.id,
        tenantId: data.tenantId,
        modelId: data.modelId,
        versionId: data.versionId,
        deploymentId: data.deploymentId,
        requestId: data.requestId,
        occurredAt,
        items,
        computeMs,
        costMicros: costMicros(items, computeMs, price),
        device,
        status: data.status,
        period: periodOfDate(occurredAt),
      };
    });

    const totals = await this.#store.insertBatch(rows, periodOfDate(now));
    let inserted = 0;
    let late = 0;
    for (const t of totals) {
      inserted += t.events;
      late += t.late;
    }
    // After the commit, and only by what was new. A failure here must not fail the batch: its
    // redelivery would insert nothing and so never add the spend; reconcile repairs the counter.
    for (const t of totals) {
      try {
        await this.#spend.add(t.tenantId, t.period, t.costMicros);
      } catch (err) {
        this.#logger.error(
          { err: String(err), tenantId: t.tenantId, period: t.period, costMicros: t.costMicros.toString() },
          "spend counter not advanced; the next reconcile repairs it",
        );
      }
    }
    if (late > 0) this.#logger.warn({ late }, "late usage placed in the open period");
    return { received, inserted, duplicates: received - inserted, late, totals };
  }

  /**
   * Reconciles the open period and the one before it (which still takes usage until it is closed):
   * what main.ts runs at start and on its schedule.
   */
  async reconcileRecent(): Promise<number> {
    const current = periodOfDate(this.#clock());
    return (await this.reconcile(previousPeriod(current))) + (await this.reconcile(current));
  }

  /** Copies Postgres month-to-date totals of `period` (default: the current one) into the counters. */
  reconcile(period = periodOfDate(this.#clock())): Promise<number> {
    return this.#gate.exclusive(async () => {
      const totals = await this.#store.periodTotals(period);
      await this.#spend.reconcile(period, totals);
      return totals.size;
    });
  }

  async #priceBook(now: number): Promise<PriceBook> {
    if (!this.#book || now - this.#book.at > this.#ttl) {
      this.#book = { value: new PriceBook(await this.#store.prices()), at: now };
    }
    return this.#book.value;
  }

  async #devicesOf(ids: readonly string[]): Promise<Map<string, Device>> {
    const missing = [...new Set(ids)].filter((id) => !this.#devices.has(id));
    if (missing.length > 0) {
      const found = await this.#store.deploymentDevices(missing);
      // A deployment's device never changes; unknown ones (not yet visible, or deleted) price as CPU
      // and are looked up again next batch.
      for (const [id, device] of found) this.#devices.set(id, device);
    }
    return this.#devices;
  }

  async #plansOf(ids: readonly string[], now: number): Promise<Map<string, string>> {
    const unique = [...new Set(ids)];
    const stale = unique.filter((id) => {
      const hit = this.#plans.get(id);
      return !hit || now - hit.at > this.#ttl;
    });
    if (stale.length > 0) {
      const found = await this.#store.tenantPlans(stale);
      for (const id of stale) this.#plans.set(id, { plan: found.get(id) ?? "default", at: now });
    }
    return new Map(unique.map((id) => [id, this.#plans.get(id)?.plan ?? "default"]));
  }
}
