import { type Database, withSystem } from "@maas/db";
import { CloudEvent } from "cloudevents";
import type { Kysely } from "kysely";
import type { MaasEvent } from "../event/maas-event.js";
import { type EventsLogger, stderrLogger } from "../logger.js";
import type { EventPublisher } from "../publish/publisher.js";

export interface OutboxRelayOptions {
  db: Kysely<Database>;
  publisher: EventPublisher;
  /** Rows per round (default 100). */
  batchSize?: number;
  /** Wait between rounds when the outbox is drained (default 500 ms). */
  pollIntervalMs?: number;
  /** Backoff after a failed round, doubling up to `maxMs` (default from pollIntervalMs to 30 s). */
  retryBackoff?: { initialMs?: number; maxMs?: number };
  logger?: EventsLogger;
}

/**
 * Moves committed outbox rows to the publisher (Kafka) with at-least-once delivery. One round, in one
 * system transaction: lock the oldest unpublished rows (`for update skip locked`, so several relays
 * share the work without publishing the same row concurrently), publish, mark `published_at`, commit.
 * A crash or error between publish and commit rolls the mark back and the rows are published again:
 * consumers deduplicate by event id. A failing publisher (Kafka down) leaves rows unpublished and the
 * relay retries with exponential backoff.
 *
 * @example
 * const relay = new OutboxRelay({ db, publisher: new KafkaPublisher({ kafka }) });
 * relay.start();
 * // … on SIGTERM
 * await relay.stop();
 */
export class OutboxRelay {
  readonly #db: Kysely<Database>;
  readonly #publisher: EventPublisher;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #logger: EventsLogger;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #failures = 0;

  constructor(options: OutboxRelayOptions) {
    this.#db = options.db;
    this.#publisher = options.publisher;
    this.#batchSize = options.batchSize ?? 100;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#initialBackoffMs = options.retryBackoff?.initialMs ?? Math.max(50, this.#pollIntervalMs);
    this.#maxBackoffMs = options.retryBackoff?.maxMs ?? 30_000;
    this.#logger = options.logger ?? stderrLogger;
  }

  /** Consecutive failed rounds (0 once a round succeeds). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * One round: publishes up to `batchSize` unpublished rows and marks them. Returns how many were
   * published; throws (and marks nothing) when the publisher fails.
   */
  async relayOnce(): Promise<number> {
    return withSystem(this.#db, async (trx) => {
      const rows = await trx
        .selectFrom("outbox")
        .select(["id", "event_id", "event"])
        .where("published_at", "is", null)
        .orderBy("id")
        .limit(this.#batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      if (rows.length === 0) return 0;
      const events: MaasEvent[] = [];
      const ids: bigint[] = [];
      for (const row of rows) {
        try {
          events.push(new CloudEvent<unknown>(row.event, true));
          ids.push(row.id);
        } catch (err) {
          // Cannot happen for rows written by writeOutbox; skipped (not marked) so it cannot block the rest.
          this.#logger.error(
            { outboxId: String(row.id), eventId: row.event_id, err: String(err) },
            "corrupt outbox row",
          );
        }
      }
      if (events.length === 0) return 0;
      await this.#publisher.publish(events);
      await trx.updateTable("outbox").set({ published_at: new Date() }).where("id", "in", ids).execute();
      return events.length;
    });
  }

  /** Starts the background loop (idempotent). */
  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = this.#run();
  }

  /** Asks for a round now (e.g. right after a commit that wrote events) instead of at the next poll. */
  wake(): void {
    this.#wake?.();
  }

  /** Finishes the round in progress, then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let delay = this.#pollIntervalMs;
      try {
        const published = await this.relayOnce();
        this.#failures = 0;
        // A full batch means more may be waiting: go again at once.
        if (published === this.#batchSize) delay = 0;
      } catch (err) {
        this.#failures++;
        delay = Math.min(this.#maxBackoffMs, this.#initialBackoffMs * 2 ** Math.min(this.#failures - 1, 20));
        this.#logger.warn(
          { failures: this.#failures, retryInMs: delay, err: String(err) },
          "outbox relay round failed; rows stay unpublished",
        );
      }
      if (delay > 0 && !this.#stopping) await this.#sleep(delay);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }
}
