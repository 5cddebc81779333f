import type { AppEnv } from "@maas/runtime";
import type { Hono } from "hono";

/**
 * Open Inference Protocol v2 server health (`GET /v2/health/live`, `GET /v2/health/ready`). The spec's
 * "Health" section: the status code is the answer (200 true, 4xx false) and the body should be
 * empty, which is what KServe and Triton clients check.
 *
 * @example
 * registerV2Health(app, { isReady: () => fn.isReady() });
 */
export function registerV2Health(app: Hono<AppEnv>, options: { isReady: () => boolean }): void {
  app.get("/v2/health/live", (c) => c.body(null, 200));
  app.get("/v2/health/ready", (c) => c.body(null, options.isReady() ? 200 : 400));
}
