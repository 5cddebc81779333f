import type { AppEnv } from "@maas/runtime";
import type { Hono } from "hono";

/**
 * Open Inference Protocol v2 server health (`GET /v2/health/live`, `GET /v2/health/ready`). The status
 * code is the answer (200 true, 4xx false — all Triton's client reads); the body is KServe's
 * `{ "live": bool }` / `{ "ready": bool }`, because KServe's InferenceRESTClient parses it (an empty
 * body, as Triton sends, makes that client throw).
 *
 * @example
 * registerV2Health(app, { isReady: () => fn.isReady() });
 */
export function registerV2Health(app: Hono<AppEnv>, options: { isReady: () => boolean }): void {
  app.get("/v2/health/live", (c) => c.json({ live: true }, 200));
  app.get("/v2/health/ready", (c) => {
    const ready = options.isReady();
    return c.json({ ready }, ready ? 200 : 400);
  });
}
