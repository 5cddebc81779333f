import type { Hono } from "hono";
import type { GatewayEnv } from "../services.js";

/**
 * `GET /v2/health/live`, `/v2/health/ready` (the gateway's own, unauthenticated, as KServe
 * clients probe them) and `GET /v2` (server metadata).
 *
 * @example
 * registerV2Server(app, { isReady: () => fn.isReady(), version: "0.1.0" });
 */
export function registerV2Server(
  app: Hono<GatewayEnv>,
  options: { isReady: () => boolean; version: string },
): void {
  app.get("/v2/health/live", (c) => c.json({ live: true }));
  app.get("/v2/health/ready", (c) => {
    const ready = options.isReady();
    return c.json({ ready }, ready ? 200 : 503);
  });
  app.get("/v2", (c) =>
    c.json({ name: "maas-gateway", version: options.version, extensions: ["binary_tensor_data"] }),
  );
}
