import type { MiddlewareHandler } from "hono";
import type { AppEnv, Logger } from "../../types.js";

export interface AccessLogOptions {
  logger: Logger;
  /** Paths polled by probes and scrapers: logged at debug so they do not drown real traffic. */
  quietPaths?: readonly string[];
}

const DEFAULT_QUIET_PATHS = ["/healthz", "/readyz", "/metrics"];

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
    const status = c.res.status;
    const line = {
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    };
    const msg = `${c.req.method} ${c.req.path} ${status}`;
    if (status >= 500) log.error(line, msg);
    else if (status >= 400) log.warn(line, msg);
    else if (quiet.has(c.req.path)) log.debug(line, msg);
    else log.info(line, msg);
  };
}
