import { AppError, type ErrorCode } from "@maas/errors";
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv, Logger } from "../../types.js";

export interface ErrorHandlerOptions {
  /** Used when the failure happened before the per-request logger was set. */
  logger: Logger;
}

/** Hono's own HTTPExceptions (body limit, bad JSON in a validator …) mapped onto our fixed codes. */
const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "UNPROCESSABLE",
  429: "RATE_LIMITED",
  503: "OVERLOADED",
  504: "TIMEOUT",
};

/** Any thrown value as the one platform error; unknown errors become INTERNAL without leaking. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    const code = HTTP_STATUS_CODES[err.status];
    if (code)
      return new AppError(code, err.message || code.toLowerCase().replaceAll("_", " "), { cause: err });
  }
  return AppError.from(err);
}

/** Writes the one error body, with Retry-After and any extra headers the error carries. */
export function renderError(c: Context<AppEnv>, error: AppError): Response {
  const requestId = c.get("requestId") ?? "unknown";
  const headers: Record<string, string> = { ...error.headers };
  if (error.retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(Math.max(0, Math.ceil(error.retryAfterSeconds)));
  }
  return c.json(error.toBody(requestId), error.status, headers);
}

/**
 * The one error handler: every thrown error becomes `{ error: { code, message, requestId, docs } }`.
 * Unknown errors are logged with their stack at error level (they are our bugs) and answered as a
 * bare 500 INTERNAL; expected AppErrors are not logged here (the access log records the status).
 *
 * @example
 * app.onError(errorHandler({ logger }));
 */
export function errorHandler<E extends AppEnv = AppEnv>(options: ErrorHandlerOptions): ErrorHandler<E> {
  return function onAppError(err, ctx) {
    const c = asAppContext(ctx);
    const error = toAppError(err);
    if (error.status >= 500) {
      const log = c.get("logger") ?? options.logger;
      // `err` is pino's error serializer key: type, message and stack.
      log.error({ err, requestId: c.get("requestId"), code: error.code }, `unhandled error: ${err.message}`);
    }
    return renderError(c, error);
  };
}

/**
 * Unknown routes answer 404 NOT_FOUND in the same body shape as every other error.
 *
 * @example
 * app.notFound(notFoundHandler());
 */
export function notFoundHandler<E extends AppEnv = AppEnv>(): NotFoundHandler<E> {
  return function onNotFound(c) {
    return renderError(
      asAppContext(c),
      new AppError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`),
    );
  };
}

/**
 * A function's env extends AppEnv, but TypeScript cannot resolve `c.get("requestId")` through an
 * unresolved generic E; every E here has AppEnv's variables, so viewing the context as AppEnv is sound.
 */
function asAppContext<E extends AppEnv>(c: Context<E>): Context<AppEnv> {
  return c as unknown as Context<AppEnv>;
}
