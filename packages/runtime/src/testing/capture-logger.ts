import { type Logger, pino } from "pino";

export interface LogLine {
  level: string;
  msg?: string;
  requestId?: string;
  err?: { type?: string; message?: string; stack?: string };
  [key: string]: unknown;
}

/**
 * A real pino logger whose JSON lines land in an array, for asserting on what a function logs.
 *
 * @example
 * const { logger, lines } = captureLogger();
 * createFunction({ name: "t", logger });
 * expect(lines.find((l) => l.level === "error")).toBeUndefined();
 */
export function captureLogger(level = "debug"): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level, formatters: { level: (label) => ({ level: label }) } },
    { write: (chunk: string) => void lines.push(JSON.parse(chunk) as LogLine) },
  );
  return { logger, lines };
}
