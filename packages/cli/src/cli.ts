import { Agent, type Dispatcher } from "undici";
import { createApiClient } from "./api-client.js";
import { type Command, HELP, parseCommand } from "./args.js";
import { CliError } from "./cli-error.js";
import type { CliIo } from "./cli-io.js";
import { loginCommand } from "./commands/login.js";
import { modelsListCommand } from "./commands/models-list.js";
import { modelsPushCommand } from "./commands/models-push.js";
import { uploadsResumeCommand } from "./commands/uploads-resume.js";
import { configDir, readConfigFile, resolveConfig } from "./config-store.js";
import { describeError } from "./error-messages.js";
import { EXIT, type ExitCode } from "./exit-codes.js";

export const VERSION = "0.1.0";

/**
 * Runs one `maas` command line and returns its exit status; every failure becomes one line on stderr.
 *
 * @example
 * const code = await runCli(["models", "list"], { env: process.env, stdout: process.stdout, stderr: process.stderr });
 */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (err) {
    const { line, exit } = describeError(err);
    io.stderr.write(`${line}\n`);
    return exit;
  }
  if (command.kind === "help") {
    io.stdout.write(HELP);
    return EXIT.OK;
  }
  if (command.kind === "version") {
    io.stdout.write(`maas ${VERSION}\n`);
    return EXIT.OK;
  }
  const parallel = "parallel" in command ? command.parallel : 1;
  // One pool for API calls and parts: enough sockets per origin for every part in flight plus the API.
  const dispatcher: Dispatcher = io.dispatcher ?? new Agent({ connections: parallel + 2 });
  const dir = configDir(io.env);
  try {
    if (command.kind === "login") {
      await loginCommand(io, command, dir, dispatcher);
      return EXIT.OK;
    }
    const config = resolveConfig(await readConfigFile(dir), io.env, {
      ...(command.endpoint ? { endpoint: command.endpoint } : {}),
      ...(command.key ? { apiKey: command.key } : {}),
    });
    const api = createApiClient({ ...config, dispatcher, ...(io.signal ? { signal: io.signal } : {}) });
    switch (command.kind) {
      case "models-list":
        await modelsListCommand(io, api, command.json);
        break;
      case "models-push":
        await modelsPushCommand(io, api, dispatcher, dir, command);
        break;
      case "uploads-resume":
        await uploadsResumeCommand(io, api, dispatcher, dir, command);
        break;
    }
    return EXIT.OK;
  } catch (err) {
    // After Ctrl-C every failure is the interrupt (aborted requests fail in many ways).
    const { line, exit } = describeError(
      io.signal?.aborted ? new CliError("INTERRUPTED", "interrupted") : err,
    );
    io.stderr.write(`${line}\n`);
    return exit;
  } finally {
    if (!io.dispatcher) await dispatcher.destroy().catch(() => undefined);
  }
}
