import { type Database, withSystem } from "@maas/db";
import { type Kysely, sql } from "kysely";
import { LRUCache } from "lru-cache";

export interface LastUsedOptions {
  db: Kysely<Database>;
  /** At most one write per key per this many ms, per process (default 60 s). */
  intervalMs?: number;
  /** Keys remembered for debouncing (default 100,000); older ones may be written again early. */
  maxKeys?: number;
  /** A failed write is not the request's problem: it is reported here (default: stderr line). */
  onError?: (error: unknown, keyId: string) => void;
}

export interface LastUsedTracker {
  /** Records a use of the key; returns at once (the write happens in the background, if due). */
  touch(keyId: string): void;
  /** Waits for the writes in flight (tests, shutdown). */
  flush(): Promise<void>;
}

/**
 * Keeps `api_keys.last_used_at` roughly current without a write per request: each key is written
 * at most once per interval by this process, and the UPDATE itself skips rows written within the
 * interval, so several replicas together still write about once per interval per key.
 *
 * @example
 * const lastUsed = createLastUsedTracker({ db });
 * lastUsed.touch(principal.keyId);
 */
export function createLastUsedTracker(options: LastUsedOptions): LastUsedTracker {
  const { db } = options;
  const intervalMs = options.intervalMs ?? 60_000;
  const onError =
    options.onError ??
    ((error: unknown, keyId: string) =>
      process.stderr.write(`auth: last_used_at of ${keyId} not written: ${(error as Error).message}\n`));
  const recent = new LRUCache<string, true>({ max: options.maxKeys ?? 100_000, ttl: intervalMs });
  const inFlight = new Set<Promise<void>>();

  return {
    touch(keyId) {
      if (recent.has(keyId)) return;
      recent.set(keyId, true);
      const write = withSystem(db, (trx) =>
        trx
          .updateTable("api_keys")
          .set({ last_used_at: sql<Date>`now()` })
          .where("id", "=", keyId)
          .where((eb) =>
            eb.or([
              eb("last_used_at", "is", null),
              eb("last_used_at", "<", sql<Date>`now() - make_interval(secs => ${intervalMs / 1000})`),
            ]),
          )
          .execute(),
      ).then(
        () => undefined,
        (error: unknown) => onError(error, keyId),
      );
      inFlight.add(write);
      void write.finally(() => inFlight.delete(write));
    },
    async flush() {
      await Promise.all([...inFlight]);
    },
  };
}
