import type { z } from "zod";

/** The Kafka topics events are relayed to (DESIGN §3): lifecycle on one, high-volume usage on another. */
export type EventTopic = "maas.events" | "maas.usage";

/** Topic names in one place; `dlq` receives records no subscriber could take. */
export const topics = { events: "maas.events", usage: "maas.usage", dlq: "maas.dlq" } as const;

/**
 * One event type, declared once and used by producer and consumer alike: the CloudEvents `type`, a
 * schema version, the topic it travels on and the zod schema of its `data`.
 */
export interface EventDefinition<T = unknown> {
  type: string;
  version: number;
  topic: EventTopic;
  data: z.ZodType<T>;
  description: string;
}

const platformType = /^io\.maas\.[a-z]+(\.[a-z]+)+\.v[1-9][0-9]*$/;

/**
 * Declares an event type. Platform types must follow `io.maas.<noun>.<verb>.v<version>` so the version
 * in the name and the `version` field cannot disagree.
 *
 * @example
 * const tenantCreated = defineEvent({
 *   type: "io.maas.tenant.created.v1",
 *   version: 1,
 *   topic: "maas.events",
 *   data: z.object({ tenantId: z.string() }),
 *   description: "A tenant was created.",
 * });
 */
export function defineEvent<T>(def: EventDefinition<T>): EventDefinition<T> {
  if (def.type.startsWith("io.maas.")) {
    if (!platformType.test(def.type))
      throw new Error(`event type ${def.type} is not io.maas.<noun>.<verb>.vN`);
    if (!def.type.endsWith(`.v${def.version}`)) {
      throw new Error(`event type ${def.type} does not end in .v${def.version}`);
    }
  }
  return Object.freeze({ ...def });
}
