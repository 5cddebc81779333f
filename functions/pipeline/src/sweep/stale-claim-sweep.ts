import type { Database } from "@maas/db";
import type { Logger } from "@maas/runtime";
import type { ObjectStore } from "@maas/storage";
import type { Kysely } from "kysely";
import { type SweepOptions, type SweepResult, sweepStaleClaims } from "../store/version-store.js";

export interface StaleClaimSweepOptions extends SweepOptions {
  db: Kysely<Database>;
  store: ObjectStore;
  logger: Logger;
  intervalMs: number;
  /** Called after a run that wrote events (e.g. `relay.wake()`). */
  onCommitted?: () => void;
}

export interface StaleClaimSweep {
  /** One run now (also what the timer calls); never two at once. */
  runOnce(): Promise<SweepResult | undefined>;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Sweeps stale validation claims every `intervalMs` on every pipeline instance (SKIP LOCKED keeps
 * concurrent sweeps apart): requeues them, or rejects those out of attempts and deletes their files.
 * A failed delete is logged and the file left behind (the bytes were already released).
 *
 * @example
 * const sweep = scheduleStaleClaimSweep({ db, store, logger, intervalMs: 60_000, staleAfterMs, maxAttempts: 3, source, limit: 100 });
 * await sweep.stop();
 */
export function scheduleStaleClaimSweep(options: StaleClaimSweepOptions): StaleClaimSweep {
  const { db, store, logger, intervalMs, onCommitted, ...sweep } = options;
  let running: Promise<SweepResult | undefined> | undefined;

  const run = async (): Promise<SweepResult | undefined> => {
    try {
      const result = await sweepStaleClaims(db, sweep);
      if (result.requeued.length + result.abandoned.length === 0) return result;
      onCommitted?.();
      logger.warn(
        {
          requeued: result.requeued,
          abandoned: result.abandoned.map((r) => r.event.subject),
        },
        "stale validation claims swept (their instances are presumed dead)",
      );
      for (const rejection of result.abandoned) {
        for (const objectKey of rejection.objectKeys) {
          await store
            .delete(objectKey)
            .catch((err: unknown) =>
              logger.warn(
                { err, objectKey },
                "could not delete a rejected version's file; left for a sweeper",
              ),
            );
        }
      }
      return result;
    } catch (err) {
      logger.error({ err }, "stale claim sweep failed");
      return undefined;
    }
  };

  const runOnce = () => {
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void runOnce(), intervalMs);
  // unref: the timer alone must not keep a draining process alive.
  timer.unref();
  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
