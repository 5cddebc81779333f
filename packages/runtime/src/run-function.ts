import type { MaasFunction } from "./create-function.js";
import type { BaseEnv } from "./env.js";
import type { RunningServer } from "./server/serve.js";
import type { AppEnv } from "./types.js";

/** The slice of `process` runFunction uses; injected so tests can send signals without exiting. */
export interface ProcessLike {
  on(event: "SIGTERM" | "SIGINT", listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): never | void;
}

export interface RunOptions {
  /** Runs after listening and before readiness (load and warm a model); a failure exits 1. */
  warmUp?: () => Promise<void>;
  process?: ProcessLike;
}

/**
 * What every `main.ts` ends with: serve on PORT, become ready (after an optional warm-up), and on
 * SIGTERM/SIGINT shut down gracefully and exit 0 (1 if a shutdown step failed). A second signal
 * exits at once.
 *
 * @example
 * const env = loadEnvOrExit(baseEnvSchema);
 * await runFunction(createNotifier({ logger: createLogger({ name: "notifier" }) }), env);
 */
export async function runFunction<E extends AppEnv>(
  fn: MaasFunction<E>,
  env: Pick<BaseEnv, "PORT" | "HOST">,
  options: RunOptions = {},
): Promise<RunningServer> {
  const proc: ProcessLike = options.process ?? process;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      fn.logger.warn({ signal }, "second signal: exiting without waiting");
      proc.exit(1);
      return;
    }
    signalled = true;
    fn.shutdown(signal).then(
      () => proc.exit(0),
      () => proc.exit(1),
    );
  };
  // `on`, not `once`: a second signal must reach us (and exit) instead of killing the process mid-drain.
  proc.on("SIGTERM", onSignal);
  proc.on("SIGINT", onSignal);

  const server = await fn.serve({ port: env.PORT, hostname: env.HOST });
  fn.logger.info({ port: server.port, host: env.HOST ?? "*" }, `${fn.name} listening`);
  if (options.warmUp) {
    try {
      await options.warmUp();
    } catch (err) {
      fn.logger.fatal({ err }, "warm-up failed");
      await fn.shutdown("warm-up failed").catch(() => undefined);
      proc.exit(1);
      return server;
    }
  }
  fn.setReady(true);
  fn.logger.info(`${fn.name} ready`);
  return server;
}
