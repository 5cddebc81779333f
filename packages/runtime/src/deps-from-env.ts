import type { FunctionOptions } from "./create-function.js";
import type { BaseEnv } from "./env.js";
import { createLogger } from "./logger.js";

/** What a function's `app.ts` factory accepts from its caller (main.ts, a test, the local runner). */
export type FunctionDeps = Partial<
  Pick<FunctionOptions, "name" | "version" | "logger" | "registry" | "publisher" | "sink" | "drainTimeoutMs">
>;

/**
 * The runtime's share of a function's services, built once from the parsed env: name (FUNCTION_NAME
 * overrides), JSON logger at LOG_LEVEL tagged with the Knative service and revision, K_SINK for the
 * default publisher, and the shutdown drain bound.
 *
 * @example
 * const env = loadEnvOrExit(baseEnvSchema);
 * await runFunction(createNotifier(depsFromEnv("notifier", env)), env);
 */
export function depsFromEnv(defaultName: string, env: BaseEnv): FunctionDeps & { name: string } {
  const name = env.FUNCTION_NAME ?? defaultName;
  return {
    name,
    logger: createLogger({
      name,
      level: env.LOG_LEVEL,
      base: { service: env.K_SERVICE, revision: env.K_REVISION },
    }),
    sink: env.K_SINK,
    drainTimeoutMs: env.SHUTDOWN_DRAIN_MS,
  };
}
