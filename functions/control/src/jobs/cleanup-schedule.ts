import type { Logger } from "@maas/runtime";
import { type CleanupOptions, cleanupExpiredUploads } from "./cleanup-expired-uploads.js";

export interface CleanupSchedule {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Runs the upload cleanup every `intervalMs` (never two runs at once), logging what it did.
 *
 * @example
 * const schedule = scheduleCleanup({ db, store, clock: () => new Date(), intervalMs: 300_000, logger });
 * await schedule.stop();
 */
export function scheduleCleanup(
  options: Omit<CleanupOptions, "now" | "onError"> & {
    clock: () => Date;
    intervalMs: number;
    logger: Logger;
  },
): CleanupSchedule {
  const { clock, intervalMs, logger, ...rest } = options;
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running !== undefined) return;
    running = cleanupExpiredUploads({
      ...rest,
      now: clock(),
      onError: (err, what) => logger.warn({ err }, `upload cleanup: ${what} failed`),
    })
      .then((result) => {
        if (result.expired + result.strays + result.failures > 0) logger.info(result, "upload cleanup");
      })
      .catch((err: unknown) => logger.error({ err }, "upload cleanup failed"))
      .finally(() => {
        running = undefined;
      });
  };
  // unref: the timer alone must not keep a draining process alive.
  const timer = setInterval(tick, intervalMs).unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
