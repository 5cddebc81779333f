import { createEvent, events } from "@maas/events";
import { toAppError } from "@maas/quota";
import type { Context, Hono } from "hono";
import { forwardRequestHeaders, responseHeaders } from "../proxy/headers.js";
import { type PassThroughEnd, passThrough } from "../proxy/pass-through.js";
import { RequestBody } from "../proxy/request-body.js";
import type { Route } from "../routing/route-resolver.js";
import type { GatewayEnv, GatewayServices } from "../services.js";
import { resolveRoute, upstreamPath } from "./resolve.js";

/** The inference function's compute-time header (functions/inference/src/routes/v2-infer.ts). */
export const COMPUTE_MS_HEADER = "x-inference-compute-ms";
export const USAGE_SOURCE = "/functions/gateway";

/**
 * `POST /v2/models/{name}[/versions/{v}]/infer`: authenticate (done by the app), resolve the
 * tenant's deployment, one quota decision, forward over the upstream's keep-alive pool with the
 * body streamed both ways untouched (binary tensors: content-type and Inference-Header-Content-Length
 * pass through), release the concurrency lease when the response ends or the client goes away, and
 * emit an `inference.completed` usage event after it, off the response's path.
 *
 * @example
 * registerV2Infer(app, services);
 */
export function registerV2Infer(app: Hono<GatewayEnv>, services: GatewayServices): void {
  const handler = (c: Context<GatewayEnv>) => infer(c, services);
  app.post("/v2/models/:name/infer", handler);
  app.post("/v2/models/:name/versions/:version/infer", handler);
}

async function infer(c: Context<GatewayEnv>, services: GatewayServices): Promise<Response> {
  const { tenantId, route } = await resolveRoute(c, services);
  const estimate = services.estimateCostMicros(tenantId);
  const decision = await services.quota.decide({ tenantId, estimatedCostMicros: estimate });
  if (!decision.allowed) throw toAppError(decision);

  const startedAt = new Date();
  const started = performance.now();
  const requestId = c.get("requestId");
  const principal = c.get("principal");
  const body = new RequestBody(c.req.raw.body);
  const upstreamAbort = new AbortController();
  const clientSignal = c.req.raw.signal;
  const onClientAbort = () => upstreamAbort.abort(clientSignal.reason);

  let finished = false;
  const finish = (status: "ok" | "error", outputBytes: number, computeMs: number | undefined) => {
    if (finished) return;
    finished = true;
    clientSignal.removeEventListener("abort", onClientAbort);
    // Neither awaited: the lease frees itself after the lease time if this release is lost.
    void services.quota.release(decision.lease).catch(() => undefined);
    emitUsage(services, {
      route,
      tenantId,
      requestId,
      apiKeyId: principal.kind === "api_key" ? principal.keyId : undefined,
      status,
      startedAt,
      durationMs: computeMs ?? performance.now() - started,
      inputBytes: body.bytesRead,
      outputBytes,
      costMicros: status === "ok" ? estimate : 0,
    });
  };
  clientSignal.addEventListener("abort", onClientAbort, { once: true });

  let upstream: Awaited<ReturnType<GatewayServices["upstreams"]["forward"]>>;
  try {
    upstream = await services.upstreams.forward({
      origin: route.url,
      method: "POST",
      path: upstreamPath(route, "/infer"),
      headers: forwardRequestHeaders(c.req.raw.headers, requestId),
      body,
      signal: upstreamAbort.signal,
    });
  } catch (err) {
    body.cancel();
    finish("error", 0, undefined);
    throw err;
  }
  const computeHeader = upstream.headers[COMPUTE_MS_HEADER];
  const computeMs = typeof computeHeader === "string" ? Number(computeHeader) : Number.NaN;
  const ok = upstream.statusCode >= 200 && upstream.statusCode < 300;
  const headers = responseHeaders(upstream.headers);
  for (const [name, value] of Object.entries(decision.headers)) headers.set(name, value);
  const stream = passThrough(upstream.body, (end: PassThroughEnd) =>
    finish(
      ok && end.outcome === "completed" ? "ok" : "error",
      end.bytes,
      Number.isFinite(computeMs) ? computeMs : undefined,
    ),
  );
  return new Response(stream, { status: upstream.statusCode, headers });
}

interface UsageInput {
  route: Route;
  tenantId: string;
  requestId: string;
  apiKeyId: string | undefined;
  status: "ok" | "error";
  startedAt: Date;
  durationMs: number;
  inputBytes: number;
  outputBytes: number;
  costMicros: number;
}

function emitUsage(services: GatewayServices, u: UsageInput): void {
  // After the response: a bad event must never surface to the client, only in the logs.
  queueMicrotask(() => {
    const event = createEvent(events.inferenceCompleted, {
      source: USAGE_SOURCE,
      data: {
        tenantId: u.tenantId,
        deploymentId: u.route.deploymentId,
        modelId: u.route.modelId,
        versionId: u.route.versionId,
        requestId: u.requestId,
        ...(u.apiKeyId !== undefined && { apiKeyId: u.apiKeyId }),
        status: u.status,
        startedAt: u.startedAt.toISOString(),
        durationMs: Math.max(0, u.durationMs),
        inputBytes: u.inputBytes,
        outputBytes: u.outputBytes,
        costMicros: u.costMicros,
      },
    });
    services.usage.emit(event);
  });
}
