import type { MaasEvent } from "@maas/events";
import type { EventLog, LogHandler, LogSubscription, SubscribeOptions } from "./event-log.js";

export interface EmbeddedEventLogOptions {
  /** Partitions per topic; default 3. */
  partitions?: number;
  /** First wait before a failed handler sees the same record again; doubles up to 5 s. Default 100 ms. */
  redeliveryDelayMs?: number;
  /** Called when a handler throws (the record is redelivered). */
  onHandlerError?: (error: unknown, topic: string, groupId: string) => void;
}

interface Topic {
  partitions: MaasEvent[][];
  /** Resolvers of consumers waiting for new records. */
  waiters: Set<() => void>;
  roundRobin: number;
}

// FNV-1a: a stable, cheap hash so a partition key always lands on the same partition.
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The in-memory event log of embedded mode: Kafka's semantics (partitions by `partitionkey`, per-group
 * committed offsets, commit after the handler resolves, redelivery after a failure) in one process,
 * with nothing to install. Records live as long as the process; one consumer per group and topic.
 *
 * @example
 * const log = new EmbeddedEventLog();
 * await log.subscribe("maas.events", "trigger-a", async (ev) => console.log(ev.id));
 * await log.append("maas.events", [event]);
 */
export class EmbeddedEventLog implements EventLog {
  readonly #topics = new Map<string, Topic>();
  /** `${topic}\u0000${group}` → committed offset per partition (the next record to hand over). */
  readonly #committed = new Map<string, number[]>();
  readonly #active = new Set<string>();
  readonly #subscriptions = new Set<LogSubscription>();
  readonly #partitions: number;
  readonly #redeliveryDelayMs: number;
  readonly #onHandlerError: EmbeddedEventLogOptions["onHandlerError"];

  constructor(opts: EmbeddedEventLogOptions = {}) {
    this.#partitions = opts.partitions ?? 3;
    this.#redeliveryDelayMs = opts.redeliveryDelayMs ?? 100;
    this.#onHandlerError = opts.onHandlerError;
  }

  #topic(name: string): Topic {
    let t = this.#topics.get(name);
    if (!t) {
      t = {
        partitions: Array.from({ length: this.#partitions }, () => []),
        waiters: new Set(),
        roundRobin: 0,
      };
      this.#topics.set(name, t);
    }
    return t;
  }

  async append(topic: string, events: readonly MaasEvent[]): Promise<void> {
    const t = this.#topic(topic);
    for (const event of events) {
      const key = event.partitionkey;
      const p =
        typeof key === "string" && key !== ""
          ? hash(key) % t.partitions.length
          : t.roundRobin++ % t.partitions.length;
      t.partitions[p]!.push(event);
    }
    for (const wake of [...t.waiters]) wake();
  }

  /** The committed offsets of a group (next record per partition); for tests and status pages. */
  committed(topic: string, groupId: string): readonly number[] {
    return [...(this.#committed.get(`${topic}\u0000${groupId}`) ?? [])];
  }

  /** Every record of a topic in partition order; for tests (e.g. reading the dead-letter topic). */
  records(topic: string): MaasEvent[] {
    return this.#topics.get(topic)?.partitions.flat() ?? [];
  }

  async subscribe(
    topic: string,
    groupId: string,
    handler: LogHandler,
    opts: SubscribeOptions = {},
  ): Promise<LogSubscription> {
    const key = `${topic}\u0000${groupId}`;
    if (this.#active.has(key)) {
      throw new Error(
        `group ${groupId} already consumes ${topic}; the embedded log has one consumer per group`,
      );
    }
    const t = this.#topic(topic);
    let offsets = this.#committed.get(key);
    if (!offsets) {
      offsets = opts.fromBeginning ? t.partitions.map(() => 0) : t.partitions.map((p) => p.length);
      this.#committed.set(key, offsets);
    }
    this.#active.add(key);
    const committed = offsets;
    let stopped = false;
    const sleepers = new Set<() => void>();

    const waitForRecords = () =>
      new Promise<void>((resolve) => {
        const wake = () => {
          t.waiters.delete(wake);
          resolve();
        };
        t.waiters.add(wake);
      });
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          sleepers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        sleepers.add(wake);
      });

    // One loop per partition: order within a partition, independence across partitions (as in Kafka).
    const runPartition = async (p: number) => {
      const records = t.partitions[p]!;
      let delay = this.#redeliveryDelayMs;
      while (!stopped) {
        const offset = committed[p]!;
        if (offset >= records.length) {
          await waitForRecords();
          continue;
        }
        try {
          await handler(records[offset]!, { topic, partition: p, offset: String(offset) });
          committed[p] = offset + 1;
          delay = this.#redeliveryDelayMs;
        } catch (err) {
          this.#onHandlerError?.(err, topic, groupId);
          await pause(delay);
          delay = Math.min(delay * 2, 5000);
        }
      }
    };
    const loops = t.partitions.map((_, p) => runPartition(p));
    const subscription: LogSubscription = {
      stop: async () => {
        if (stopped) return;
        stopped = true;
        for (const wake of [...t.waiters]) wake();
        for (const wake of [...sleepers]) wake();
        await Promise.all(loops);
        this.#active.delete(key);
        this.#subscriptions.delete(subscription);
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
  }
}
