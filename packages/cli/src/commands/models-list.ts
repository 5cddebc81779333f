import type { ApiClient } from "../api-client.js";
import type { CliIo } from "../cli-io.js";

/** `maas models list`: one line per model (or the raw JSON with --json). */
export async function modelsListCommand(io: CliIo, api: ApiClient, json: boolean): Promise<void> {
  const { models } = await api.listModels();
  if (json) {
    io.stdout.write(`${JSON.stringify(models, null, 2)}\n`);
    return;
  }
  if (models.length === 0) {
    io.stdout.write("no models yet: maas models push <file> --model <name> --create\n");
    return;
  }
  const width = Math.max(4, ...models.map((m) => m.name.length));
  io.stdout.write(`${"NAME".padEnd(width)}  ${"ID".padEnd(30)}  CREATED\n`);
  for (const m of models) {
    io.stdout.write(`${m.name.padEnd(width)}  ${m.id.padEnd(30)}  ${m.createdAt ?? ""}\n`);
  }
}
