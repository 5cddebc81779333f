// The ids module alone: @maas/db's index pulls in the database drivers (and PGlite's files into
// every bundle that makes an event).
import { newId } from "@maas/db/ids";

/**
 * A time-sortable event id: `evt_` + a lower-case ULID (48-bit millisecond time, 80 random bits),
 * made by @maas/db's `newId` so every id in the platform comes from one generator.
 */
export function newEventId(now: number = Date.now()): string {
  return newId("evt", now);
}
