import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderAsyncApi } from "./asyncapi.js";
import { renderJsonSchemas } from "./json-schemas.js";

/** Every generated file, path relative to `events/generated` → content. */
export function renderGenerated(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, content] of renderJsonSchemas()) files.set(`json-schema/${name}`, content);
  files.set("asyncapi.yaml", renderAsyncApi());
  return files;
}

/** Writes the generated files under `dir`, removing schemas of types no longer in the catalog. */
export async function writeGenerated(dir: string): Promise<string[]> {
  const files = renderGenerated();
  await mkdir(join(dir, "json-schema"), { recursive: true });
  for (const name of await readdir(join(dir, "json-schema"))) {
    if (!files.has(`json-schema/${name}`)) await rm(join(dir, "json-schema", name));
  }
  for (const [path, content] of files) await writeFile(join(dir, path), content);
  return [...files.keys()];
}
