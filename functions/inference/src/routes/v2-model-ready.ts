import type { AppEnv } from "@maas/runtime";
import type { Context, Hono } from "hono";
import type { ModelServer } from "../model/model-server.js";
import { v2ErrorResponse } from "../v2/respond.js";
import { lookupModel } from "./model-lookup.js";

/**
 * `GET /v2/models/{name}[/versions/{v}]/ready`: 200 when warm, 400 before (the v2 spec answers health
 * with the status code: 200 true, 4xx false; Triton uses 400), 404 for another model.
 *
 * @example
 * registerV2ModelReady(app, model);
 */
export function registerV2ModelReady(app: Hono<AppEnv>, model: ModelServer): void {
  const handler = (c: Context<AppEnv>) => {
    try {
      const m = lookupModel(model, c.req.param("name") ?? "", c.req.param("version"));
      const ready = m.isReady();
      // KServe's client reads `ready` from the body; Triton's reads the status.
      return c.json({ name: m.name, ready }, ready ? 200 : 400);
    } catch (err) {
      return v2ErrorResponse(c, err);
    }
  };
  app.get("/v2/models/:name/ready", handler);
  app.get("/v2/models/:name/versions/:version/ready", handler);
}
