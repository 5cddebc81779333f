import { createEvent, type EventDefinition, events, type MaasEvent } from "@maas/events";

export const USAGE_SOURCE = "/functions/gateway";

/** What one finished inference call reports: the `inference.completed` event's data. */
export type UsageRecord = typeof events.inferenceCompleted extends EventDefinition<infer T> ? T : never;

/** The usage event of a record (validated: a bad record throws). */
export function usageEvent(record: UsageRecord): MaasEvent<UsageRecord> {
  return createEvent(events.inferenceCompleted, { source: USAGE_SOURCE, data: record });
}
