import { getDefinition } from "../catalog/catalog.js";
import type { MaasEvent } from "../event/maas-event.js";

export interface TopicChoice {
  /** Sends every event to this topic instead of the catalog's (tests, dead-letter paths). */
  topic?: string;
  /** Chooses a topic per event; wins over `topic` and the catalog. */
  topicFor?: (event: MaasEvent) => string;
}

/**
 * The topic an event goes to: the caller's choice per event, else its fixed topic, else the catalog's
 * topic for the event's type (one rule for every Kafka publisher).
 *
 * @example
 * topicOf(createEvent(events.inferenceCompleted, init), {}); // "maas.usage"
 */
export function topicOf(event: MaasEvent, choice: TopicChoice): string {
  if (choice.topicFor) return choice.topicFor(event);
  if (choice.topic) return choice.topic;
  const def = getDefinition(event.type);
  if (!def) throw new Error(`no topic for event type ${event.type}: not in the catalog`);
  return def.topic;
}
