export { createFunction, type FunctionOptions, type MaasFunction } from "./create-function.js";
export { depsFromEnv, type FunctionDeps } from "./deps-from-env.js";
export { type BaseEnv, baseEnvSchema } from "./env.js";
export { NonRetriableError, RetryAfterError } from "./events/errors.js";
export { defaultPublisher, unconfiguredPublisher } from "./events/publisher.js";
export {
  type EventContext,
  type EventHandler,
  type EventHandlers,
  type EventOutcome,
  eventReceiver,
} from "./events/receiver.js";
export { healthRoutes } from "./health/index.js";
export { createLogger, type LoggerOptions } from "./logger.js";
export { accessLog, writeAccessLog } from "./middleware/access-log/index.js";
export { type BodyLimitOptions, bodyLimit } from "./middleware/body-limit/index.js";
export { errorHandler, notFoundHandler, renderError, toAppError } from "./middleware/error-handler/index.js";
export {
  type HttpMetricsRecorder,
  httpMetrics,
  httpMetricsRecorder,
  UNMATCHED_ROUTE,
} from "./middleware/http-metrics/index.js";
export {
  isSaneRequestId,
  newRequestId,
  REQUEST_ID_HEADER,
  requestId,
} from "./middleware/request-id/index.js";
export { type ProcessLike, type RunOptions, runFunction } from "./run-function.js";
export type { NativeHandler, RunningServer, ServeOptions } from "./server/serve.js";
export type { AppEnv, Logger } from "./types.js";
