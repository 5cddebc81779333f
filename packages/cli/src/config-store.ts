import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { CliError } from "./cli-error.js";

export const configFileSchema = z.object({
  endpoint: z.url(),
  apiKey: z.string().min(1),
});
export type CliConfig = z.infer<typeof configFileSchema>;

/** Where `maas` keeps its state: `${XDG_CONFIG_HOME:-~/.config}/maas`. */
export function configDir(env: NodeJS.ProcessEnv): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : path.join(homedir(), ".config");
  return path.join(base, "maas");
}

/** The saved login, or null when there is none; a corrupt file is reported, not silently ignored. */
export async function readConfigFile(dir: string): Promise<CliConfig | null> {
  const file = path.join(dir, "config.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new CliError("LOCAL_FILE", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success)
    throw new CliError("LOCAL_FILE", `${file} is not a valid maas config; run maas login again`);
  return parsed.data;
}

/**
 * Writes the login with mode 0600 (the key is a secret) in a 0700 folder; written to a temporary
 * file first so a crash never leaves half a config.
 */
export async function writeConfigFile(dir: string, config: CliConfig): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, "config.json");
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(configFileSchema.parse(config), null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode is masked by the umask and ignored for an existing file: set it explicitly.
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

/**
 * The endpoint and key to use: flags win over `MAAS_ENDPOINT` / `MAAS_API_KEY`, which win over the
 * saved login. Throws NOT_LOGGED_IN when either is missing.
 *
 * @example
 * const { endpoint, apiKey } = resolveConfig(await readConfigFile(dir), process.env);
 */
export function resolveConfig(
  saved: CliConfig | null,
  env: NodeJS.ProcessEnv,
  flags: { endpoint?: string; apiKey?: string } = {},
): CliConfig {
  const endpoint = flags.endpoint ?? nonEmpty(env.MAAS_ENDPOINT) ?? saved?.endpoint;
  const apiKey = flags.apiKey ?? nonEmpty(env.MAAS_API_KEY) ?? saved?.apiKey;
  if (!endpoint || !apiKey) {
    throw new CliError(
      "NOT_LOGGED_IN",
      "not logged in: run maas login (or set MAAS_ENDPOINT and MAAS_API_KEY)",
    );
  }
  const parsed = configFileSchema.safeParse({ endpoint: endpoint.replace(/\/+$/, ""), apiKey });
  if (!parsed.success) throw new CliError("USAGE", `invalid endpoint URL: ${endpoint}`);
  return parsed.data;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}
