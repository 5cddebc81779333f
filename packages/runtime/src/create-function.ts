import type { EventPublisher } from "@maas/events";
import { Hono } from "hono";
import { Registry } from "prom-client";
import { defaultPublisher } from "./events/publisher.js";
import { type EventHandlers, eventReceiver } from "./events/receiver.js";
import { healthRoutes } from "./health/index.js";
import { createLogger } from "./logger.js";
import { ensureDefaultMetrics } from "./metrics.js";
import { accessLog } from "./middleware/access-log/index.js";
import { errorHandler, notFoundHandler } from "./middleware/error-handler/index.js";
import { httpMetrics } from "./middleware/http-metrics/index.js";
import { requestId } from "./middleware/request-id/index.js";
import { type NativeHandler, type RunningServer, type ServeOptions, startServer } from "./server/serve.js";
import type { AppEnv, Logger } from "./types.js";

export interface FunctionOptions<E extends AppEnv = AppEnv> {
  /** Function name: the `function` label on metrics and field on logs. */
  name: string;
  version?: string;
  /** Registers the function's HTTP routes (one file per route, listed here). */
  routes?: (app: Hono<E>) => void;
  /** CloudEvent handlers by full type; served on `POST /`. */
  events?: EventHandlers;
  /** Where handlers' `publish` goes. Default: an HttpPublisher to `sink`, else one that refuses. */
  publisher?: EventPublisher;
  /** `K_SINK`; only used when no publisher is given. */
  sink?: string | undefined;
  /** Default: JSON to stdout at info. */
  logger?: Logger;
  /** Injected so tests and co-hosted functions do not share prom-client's global registry. */
  registry?: Registry;
  /** Last step of shutdown, after the server drained and the publisher flushed (close pools here). */
  onShutdown?: () => Promise<void>;
  /** Bound on waiting for in-flight requests at shutdown. Default 20 s (Knative grants 30 s). */
  drainTimeoutMs?: number;
  /**
   * Makes a native handler tried before the Hono app on the served port (not by `app.request`),
   * given the function's logger and registry: it must keep the app's contract for what it answers
   * (request id, access log, HTTP metrics, error body).
   */
  intercept?: (context: { name: string; logger: Logger; registry: Registry }) => NativeHandler;
}

export interface MaasFunction<E extends AppEnv = AppEnv> {
  readonly name: string;
  readonly app: Hono<E>;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly publisher: EventPublisher;
  isReady(): boolean;
  /** `/readyz` answers 200 only after `setReady(true)` (e.g. once a model is warm). */
  setReady(ready: boolean): void;
  /** Listens; port 0 picks a free port, returned. */
  serve(options: ServeOptions): Promise<RunningServer>;
  /**
   * Idempotent: readyz → 503, stop accepting, drain in-flight requests (bounded), close the publisher,
   * run onShutdown. Rejects (after trying every step) if a step failed.
   */
  shutdown(signal?: string): Promise<void>;
}

/**
 * Builds a function: a Hono app with request ids, access logs, HTTP metrics, one error body,
 * `/healthz`, `/readyz`, `/metrics`, a CloudEvent receiver on `POST /`, and graceful shutdown.
 *
 * @example
 * const fn = createFunction({
 *   name: "notifier",
 *   routes: (app) => app.get("/v1/ping", (c) => c.json({ pong: true })),
 *   events: {
 *     [events.invoiceIssued.type]: async (event, { logger }) => logger.info({ id: event.id }, "issued"),
 *   },
 * });
 * const res = await fn.app.request("/healthz"); // 200
 * await fn.serve({ port: 8080 });
 * fn.setReady(true);
 */
export function createFunction<E extends AppEnv = AppEnv>(options: FunctionOptions<E>): MaasFunction<E> {
  const name = options.name;
  const logger = options.logger ?? createLogger({ name, version: options.version });
  const registry = options.registry ?? new Registry();
  const publisher = options.publisher ?? defaultPublisher({ functionName: name, sink: options.sink });
  const drainTimeoutMs = options.drainTimeoutMs ?? 20_000;
  ensureDefaultMetrics(registry);
  const intercept = options.intercept?.({ name, logger, registry });

  let ready = false;
  let shuttingDown = false;
  const servers: RunningServer[] = [];

  const app = new Hono<E>();
  app.use(requestId(), accessLog({ logger }), httpMetrics({ registry, functionName: name }));
  app.onError(errorHandler({ logger }));
  app.notFound(notFoundHandler());
  app.route("/", healthRoutes({ registry, isReady: () => ready, isShuttingDown: () => shuttingDown }));
  options.routes?.(app);
  // After the function's routes: a function that serves its own `POST /` keeps it.
  app.route("/", eventReceiver({ functionName: name, handlers: options.events ?? {}, publisher, registry }));

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (signal?: string): Promise<void> => {
    shutdownPromise ??= (async () => {
      shuttingDown = true;
      logger.info({ signal }, "shutting down");
      const failures: unknown[] = [];
      const step = async (what: string, run: () => Promise<unknown>) => {
        try {
          await run();
        } catch (err) {
          failures.push(err);
          logger.error({ err }, `shutdown: ${what} failed`);
        }
      };
      await step("draining servers", () => Promise.all(servers.map((s) => s.close())));
      await step("closing publisher", async () => publisher.close?.());
      if (options.onShutdown) await step("onShutdown", options.onShutdown);
      if (failures.length > 0) throw new AggregateError(failures, `shutdown of ${name} had failures`);
      logger.info("shutdown complete");
    })();
    return shutdownPromise;
  };

  return {
    name,
    app,
    logger,
    registry,
    publisher,
    isReady: () => ready && !shuttingDown,
    setReady(value) {
      ready = value;
    },
    async serve(serveOptions) {
      if (shuttingDown) throw new Error(`function ${name} is shutting down`);
      const server = await startServer({
        ...serveOptions,
        fetch: app.fetch,
        intercept,
        logger,
        drainTimeoutMs,
      });
      servers.push(server);
      return server;
    },
    shutdown,
  };
}
