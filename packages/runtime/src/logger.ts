import { type DestinationStream, type Level, type Logger, pino } from "pino";

export interface LoggerOptions {
  name: string;
  version?: string;
  level?: Level | "silent";
  /** Extra fields on every line (revision, service). */
  base?: Record<string, string | undefined>;
  /** Defaults to stdout; tests pass a stream that collects lines. */
  destination?: DestinationStream;
}

/**
 * The function's JSON logger: one line per event, `function` and `version` on every line, ISO
 * timestamps (UTC) so lines from several functions sort together.
 *
 * @example
 * const logger = createLogger({ name: "control", level: env.LOG_LEVEL });
 */
export function createLogger(options: LoggerOptions): Logger {
  const base: Record<string, string> = { function: options.name };
  if (options.version) base.version = options.version;
  for (const [key, value] of Object.entries(options.base ?? {})) if (value) base[key] = value;
  return pino(
    {
      level: options.level ?? "info",
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination(1),
  );
}
