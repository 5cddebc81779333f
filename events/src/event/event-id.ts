import { monotonicFactory } from "ulid";

// Monotonic within a process, so ids made in the same millisecond still sort in creation order.
const nextUlid = monotonicFactory();

/**
 * A time-sortable event id: `evt_` + a lower-case ULID (48-bit millisecond time, 80 random bits), the
 * same shape as `newId("evt")` in @maas/db.
 */
export function newEventId(now: number = Date.now()): string {
  return `evt_${nextUlid(now).toLowerCase()}`;
}
