import { createInterface } from "node:readline/promises";
import type { Dispatcher } from "undici";
import { createApiClient } from "../api-client.js";
import type { GlobalFlags } from "../args.js";
import { CliError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import { readConfigFile, resolveConfig, writeConfigFile } from "../config-store.js";

export const DEFAULT_ENDPOINT = "http://127.0.0.1:8080";

/** `maas login`: checks the key with a real call (GET /v1/models), then saves endpoint and key (0600). */
export async function loginCommand(
  io: CliIo,
  flags: GlobalFlags,
  configDir: string,
  dispatcher: Dispatcher,
): Promise<void> {
  const saved = await readConfigFile(configDir).catch(() => null);
  const endpoint = flags.endpoint ?? nonEmpty(io.env.MAAS_ENDPOINT) ?? saved?.endpoint ?? DEFAULT_ENDPOINT;
  const key = flags.key ?? nonEmpty(io.env.MAAS_API_KEY) ?? (await readKey(io));
  if (!key) throw new CliError("USAGE", "no API key: pass --key, set MAAS_API_KEY, or type it when asked");
  const config = resolveConfig(null, {}, { endpoint, apiKey: key });
  const api = createApiClient({ ...config, dispatcher, ...(io.signal ? { signal: io.signal } : {}) });
  const { models } = await api.listModels();
  const file = await writeConfigFile(configDir, config);
  io.stdout.write(`logged in to ${config.endpoint} (${models.length} model(s) visible); saved to ${file}\n`);
}

async function readKey(io: CliIo): Promise<string | undefined> {
  if (!io.stdin) return undefined;
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    io.stderr.write("API key: ");
    const line = await rl.question("");
    return line.trim() || undefined;
  } finally {
    rl.close();
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}
