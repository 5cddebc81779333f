import { z } from "zod";
import { catalog } from "../catalog/catalog.js";
import type { EventDefinition } from "../catalog/define-event.js";

export const SCHEMA_BASE_URL = "https://schemas.maas.dev/events";

/**
 * The JSON Schema (draft 2020-12) of one type's `data`. `io: "input"` describes what producers may
 * send: objects stay open to unknown fields (the reader strips them), as a tolerant reader should.
 */
export function dataJsonSchema(def: EventDefinition, target: "draft-2020-12" | "draft-7" = "draft-2020-12") {
  const schema = z.toJSONSchema(def.data, { io: "input", target, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    $id: `${SCHEMA_BASE_URL}/${def.type}.json`,
    title: def.type,
    description: def.description,
  };
}

/** `<type>.json` → file content, for every catalog type, in type order. */
export function renderJsonSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  for (const def of [...catalog.values()].sort((a, b) => a.type.localeCompare(b.type))) {
    files.set(`${def.type}.json`, `${JSON.stringify(dataJsonSchema(def), null, 2)}\n`);
  }
  return files;
}
