import type { AppEnv } from "@maas/runtime";
import type { Context, Hono } from "hono";
import type { ModelServer } from "../model/model-server.js";
import { v2ErrorResponse } from "../v2/respond.js";
import { V2Error } from "../v2/v2-error.js";
import { lookupModel } from "./model-lookup.js";

/**
 * `GET /v2/models/{name}[/versions/{v}]`: model metadata — name, versions, platform, and each input
 * and output with datatype and shape (-1 for dynamic axes), per the v2 "Model Metadata Response".
 *
 * @example
 * registerV2ModelMetadata(app, model);
 */
export function registerV2ModelMetadata(app: Hono<AppEnv>, model: ModelServer): void {
  const handler = (c: Context<AppEnv>) => {
    try {
      const m = lookupModel(model, c.req.param("name") ?? "", c.req.param("version"));
      const sig = m.signature();
      if (!sig) throw new V2Error(503, `model ${m.name} is still loading`, 1);
      return c.json({
        name: m.name,
        versions: [m.version],
        platform: m.platform,
        inputs: sig.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
        outputs: sig.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
      });
    } catch (err) {
      return v2ErrorResponse(c, err);
    }
  };
  app.get("/v2/models/:name", handler);
  app.get("/v2/models/:name/versions/:version", handler);
}
