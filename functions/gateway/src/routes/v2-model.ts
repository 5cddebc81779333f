import type { Context, Hono } from "hono";
import { forwardRequestHeaders, responseHeaders, webHeaderReader } from "../proxy/headers.js";
import { passThrough } from "../proxy/pass-through.js";
import { RequestBody } from "../proxy/request-body.js";
import type { GatewayEnv, GatewayServices } from "../services.js";
import { resolveRoute, upstreamPath } from "./resolve.js";

/**
 * `GET /v2/models/{name}[/versions/{v}]` (metadata) and `.../ready`, proxied to the tenant's
 * deployment. No quota decision: they cost no inference (auth and the route cache bound them).
 *
 * @example
 * registerV2Model(app, services);
 */
export function registerV2Model(app: Hono<GatewayEnv>, services: GatewayServices): void {
  const proxy = (suffix: "" | "/ready") => async (c: Context<GatewayEnv>) => {
    const { route } = await resolveRoute(c, services);
    const upstream = await services.upstreams.forward({
      origin: route.url,
      method: "GET",
      path: upstreamPath(route, suffix),
      headers: forwardRequestHeaders(webHeaderReader(c.req.raw.headers), c.get("requestId")),
      body: new RequestBody(null),
      signal: c.req.raw.signal,
      bufferBytes: services.bufferBytes,
    });
    const init = { status: upstream.statusCode, headers: responseHeaders(upstream.headers) };
    if (upstream.bytes !== undefined) return new Response(upstream.bytes, init);
    return new Response(
      passThrough(upstream.body, () => undefined),
      init,
    );
  };
  app.get("/v2/models/:name", proxy(""));
  app.get("/v2/models/:name/versions/:version", proxy(""));
  app.get("/v2/models/:name/ready", proxy("/ready"));
  app.get("/v2/models/:name/versions/:version/ready", proxy("/ready"));
}
