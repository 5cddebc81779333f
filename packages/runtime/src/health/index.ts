import { AppError } from "@maas/errors";
import { Hono } from "hono";
import type { Registry } from "prom-client";
import type { AppEnv } from "../types.js";

export interface HealthOptions {
  registry: Registry;
  /** Read on every probe: readiness changes over the life of the process. */
  isReady: () => boolean;
  /** Read on every probe: readiness is withdrawn while draining. */
  isShuttingDown: () => boolean;
}

/**
 * `/healthz` (liveness: 200 while the process can answer at all), `/readyz` (503 NOT_READY until the
 * function says it is ready, and again while shutting down so Knative stops routing to it), and
 * `/metrics` (Prometheus text format from the injected registry).
 *
 * @example
 * app.route("/", healthRoutes({ registry, isReady: () => ready, isShuttingDown: () => false }));
 */
export function healthRoutes(options: HealthOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/readyz", (c) => {
    if (options.isShuttingDown()) throw new AppError("NOT_READY", "shutting down");
    if (!options.isReady()) throw new AppError("NOT_READY", "not ready yet");
    return c.json({ status: "ready" });
  });

  app.get("/metrics", async (c) => {
    const body = await options.registry.metrics();
    return c.body(body, 200, { "content-type": options.registry.contentType });
  });
  return app;
}
