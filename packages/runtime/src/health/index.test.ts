import { Hono } from "hono";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ensureDefaultMetrics } from "../metrics.js";
import { errorHandler } from "../middleware/error-handler/index.js";
import { requestId } from "../middleware/request-id/index.js";
import { captureLogger } from "../testing/capture-logger.js";
import type { AppEnv } from "../types.js";
import { healthRoutes } from "./index.js";

function setup() {
  const state = { ready: false, shuttingDown: false };
  const registry = new Registry();
  ensureDefaultMetrics(registry);
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.onError(errorHandler({ logger: captureLogger().logger }));
  app.route(
    "/",
    healthRoutes({ registry, isReady: () => state.ready, isShuttingDown: () => state.shuttingDown }),
  );
  return { app, state };
}

describe("health routes", () => {
  it("/healthz is 200 whatever readiness says", async () => {
    const { app, state } = setup();
    expect((await app.request("/healthz")).status).toBe(200);
    state.shuttingDown = true;
    expect((await app.request("/healthz")).status).toBe(200);
  });

  it("/readyz is 503 NOT_READY until ready, then 200, then 503 again while shutting down", async () => {
    const { app, state } = setup();
    const before = await app.request("/readyz");
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ error: { code: "NOT_READY", message: "not ready yet" } });

    state.ready = true;
    expect((await app.request("/readyz")).status).toBe(200);

    state.shuttingDown = true;
    const draining = await app.request("/readyz");
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ error: { code: "NOT_READY", message: "shutting down" } });
  });

  it("/metrics serves the Prometheus text format with process metrics", async () => {
    const { app } = setup();
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    expect(text).toContain("# TYPE process_cpu_user_seconds_total counter");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
  });
});
