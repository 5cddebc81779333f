import type { EventDefinition } from "./define-event.js";
import { events, knativePing } from "./events.js";

function buildCatalog(defs: readonly EventDefinition[]): ReadonlyMap<string, EventDefinition> {
  const map = new Map<string, EventDefinition>();
  for (const def of defs) {
    if (map.has(def.type)) throw new Error(`event type ${def.type} declared twice`);
    map.set(def.type, def);
  }
  return map;
}

/** Every event type the platform accepts: its own types plus the Knative PingSource tick. */
export const catalog: ReadonlyMap<string, EventDefinition> = buildCatalog([
  ...(Object.values(events) as EventDefinition[]),
  knativePing as EventDefinition,
]);

export function getDefinition(type: string): EventDefinition | undefined {
  return catalog.get(type);
}
