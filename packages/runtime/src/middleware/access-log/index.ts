import type { MiddlewareHandler } from "hono";
import type { AppEnv, Logger } from "../../types.js";

export interface AccessLogOptions {
  logger: Logger;
  /** Paths polled by probes and scrapers: logged at debug so they do not drown real traffic. */
  quietPaths?: readonly string[];
}

const DEFAULT_QUIET_PATHS = ["/healthz", "/readyz", "/metrics"];
const DEFAULT_QUIET: ReadonlySet<string> = new Set(DEFAULT_QUIET_PATHS);

/**
 * One JSON line per request, bound to the request id; also puts that child logger on the context.
 * Levels follow who must act: 5xx is ours (error), 4xx is the caller's (warn, never error),
 * everything else info.
 *
 * @example
 * app.use(requestId(), accessLog({ logger }));
 * app.get("/", (c) => { c.get("logger").info("hello"); return c.text("ok"); });
 */
export function accessLog(options: AccessLogOptions): MiddlewareHandler<AppEnv> {
  const quiet = new Set(options.quietPaths ?? DEFAULT_QUIET_PATHS);
  return async function accessLogMiddleware(c, next) {
    const started = performance.now();
    const log = options.logger.child({ requestId: c.get("requestId") });
    c.set("logger", log);
    await next();
    writeAccessLog(log, c.req.method, c.req.path, c.res.status, performance.now() - started, quiet);
  };
}

/**
 * The access log line of `accessLog`, for a handler outside Hono (runtime `intercept`); `log` carries
 * the request id (a child logger), as the middleware's does.
 */
export function writeAccessLog(
  log: Logger,
  method: string,
  path: string,
  status: number,
  elapsedMs: number,
  quiet: ReadonlySet<string> = DEFAULT_QUIET,
): void {
  const line = { method, path, status, durationMs: Math.round(elapsedMs * 1000) / 1000 };
  const msg = `${method} ${path} ${status}`;
  if (status >= 500) log.error(line, msg);
  else if (status >= 400) log.warn(line, msg);
  else if (quiet.has(path)) log.debug(line, msg);
  else log.info(line, msg);
}
