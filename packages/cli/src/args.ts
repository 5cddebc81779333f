import { type ParseArgsConfig, parseArgs } from "node:util";
import { CliError } from "./cli-error.js";

export interface GlobalFlags {
  endpoint?: string;
  key?: string;
}

export type Command = GlobalFlags &
  (
    | { kind: "help" }
    | { kind: "version" }
    | { kind: "login" }
    | { kind: "models-list"; json: boolean }
    | {
        kind: "models-push";
        file: string;
        model: string;
        parallel: number;
        create: boolean;
        description?: string;
      }
    | { kind: "uploads-resume"; uploadId: string; file?: string; parallel: number }
  );

export const DEFAULT_PARALLEL = 8;
export const MAX_PARALLEL = 64;

type Options = NonNullable<ParseArgsConfig["options"]>;

const globalOptions: Options = {
  endpoint: { type: "string" },
  key: { type: "string" },
  help: { type: "boolean", short: "h" },
};

export const HELP = `maas — the Model-as-a-Service command line

Usage:
  maas login [--endpoint URL] [--key KEY]      save the endpoint and API key (verified with a call)
  maas models list [--json]                    list the tenant's models
  maas models push <file> --model <name> [--parallel N] [--create] [--description TEXT]
                                               upload an ONNX model as a new version (resumable)
  maas uploads resume <upload-id> [--file PATH] [--parallel N]
                                               finish an interrupted push: only the missing parts are sent

Global flags: --endpoint URL, --key KEY (override the saved login), -h/--help, --version
Environment: MAAS_ENDPOINT, MAAS_API_KEY (override the saved login), XDG_CONFIG_HOME (config folder,
  default ~/.config; the login is maas/config.json, resume state maas/uploads/<id>.json),
  MAAS_PROGRESS=plain (periodic lines instead of a bar), MAAS_PROGRESS_INTERVAL_MS.

Exit status: 0 ok, 1 unexpected error, 2 bad command line, 3 not logged in / key rejected / forbidden,
  4 not found, 5 quota or budget exceeded, 6 request refused (validation, conflict), 7 API or storage
  unreachable (after retries), 8 local file missing or changed, 130 interrupted (resumable).
`;

function parse(args: string[], options: Options) {
  try {
    return parseArgs({
      args,
      options: { ...globalOptions, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new CliError("USAGE", (err as Error).message.split("\n")[0] ?? "bad arguments");
  }
}

function parallelOf(raw: unknown): number {
  if (raw === undefined) return DEFAULT_PARALLEL;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARALLEL) {
    throw new CliError(
      "USAGE",
      `--parallel must be a whole number from 1 to ${MAX_PARALLEL}, got ${String(raw)}`,
    );
  }
  return n;
}

function globals(values: Record<string, unknown>): GlobalFlags {
  return {
    ...(typeof values.endpoint === "string" ? { endpoint: values.endpoint } : {}),
    ...(typeof values.key === "string" ? { key: values.key } : {}),
  };
}

function noExtra(positionals: string[], expected: number, usage: string) {
  if (positionals.length > expected)
    throw new CliError("USAGE", `unexpected argument ${positionals[expected]}: ${usage}`);
}

/**
 * Turns argv (without `node maas`) into one typed command; a bad command line is a USAGE error.
 *
 * @example
 * parseCommand(["models", "push", "m.onnx", "--model", "resnet", "--parallel", "4"]);
 * // { kind: "models-push", file: "m.onnx", model: "resnet", parallel: 4, create: false }
 */
export function parseCommand(argv: string[]): Command {
  if (argv.length === 0 || argv[0] === "help" || argv[0] === "--help" || argv[0] === "-h")
    return { kind: "help" };
  if (argv[0] === "--version" || argv[0] === "version") return { kind: "version" };
  const [first, second] = argv;
  if (first === "login") {
    const { values, positionals } = parse(argv.slice(1), {});
    if (values.help) return { kind: "help" };
    noExtra(positionals, 0, "maas login [--endpoint URL] [--key KEY]");
    return { kind: "login", ...globals(values) };
  }
  if (first === "models" && second === "list") {
    const { values, positionals } = parse(argv.slice(2), { json: { type: "boolean" } });
    if (values.help) return { kind: "help" };
    noExtra(positionals, 0, "maas models list [--json]");
    return { kind: "models-list", json: values.json === true, ...globals(values) };
  }
  if (first === "models" && second === "push") {
    const usage = "maas models push <file> --model <name> [--parallel N] [--create]";
    const { values, positionals } = parse(argv.slice(2), {
      model: { type: "string", short: "m" },
      parallel: { type: "string", short: "p" },
      create: { type: "boolean" },
      description: { type: "string" },
    });
    if (values.help) return { kind: "help" };
    const file = positionals[0];
    if (!file) throw new CliError("USAGE", `missing <file>: ${usage}`);
    noExtra(positionals, 1, usage);
    if (typeof values.model !== "string" || values.model === "")
      throw new CliError("USAGE", `missing --model: ${usage}`);
    return {
      kind: "models-push",
      file,
      model: values.model,
      parallel: parallelOf(values.parallel),
      create: values.create === true,
      ...(typeof values.description === "string" ? { description: values.description } : {}),
      ...globals(values),
    };
  }
  if (first === "uploads" && second === "resume") {
    const usage = "maas uploads resume <upload-id> [--file PATH] [--parallel N]";
    const { values, positionals } = parse(argv.slice(2), {
      file: { type: "string", short: "f" },
      parallel: { type: "string", short: "p" },
    });
    if (values.help) return { kind: "help" };
    const uploadId = positionals[0];
    if (!uploadId) throw new CliError("USAGE", `missing <upload-id>: ${usage}`);
    noExtra(positionals, 1, usage);
    if (!/^[A-Za-z0-9_-]+$/.test(uploadId)) throw new CliError("USAGE", `not an upload id: ${uploadId}`);
    return {
      kind: "uploads-resume",
      uploadId,
      parallel: parallelOf(values.parallel),
      ...(typeof values.file === "string" ? { file: values.file } : {}),
      ...globals(values),
    };
  }
  throw new CliError("USAGE", `unknown command: ${argv.slice(0, 2).join(" ")}`);
}
