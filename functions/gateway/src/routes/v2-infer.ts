import { AppError } from "@maas/errors";
import { createEvent, events } from "@maas/events";
import { toAppError } from "@maas/quota";
import { REQUEST_ID_HEADER } from "@maas/runtime";
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
  const { bufferBytes } = services;
  // A small body is read while the decision is made (it usually came with the headers).
  const bodyRead = readRequestBody(c, bufferBytes);
  bodyRead.catch(() => undefined);
  const estimate = services.estimateCostMicros(tenantId);
  const decision = await services.quota.decide({ tenantId, estimatedCostMicros: estimate });
  if (!decision.allowed) throw toAppError(decision);

  const startedAt = new Date();
  const started = performance.now();
  const requestId = c.get("requestId");
  const principal = c.get("principal");
  let body = new RequestBody(null);
  const upstreamAbort = new AbortController();
  const clientSignal = c.req.raw.signal;
  const onClientAbort = () => upstreamAbort.abort(clientSignal.reason);

  let finished = false;
  const finish = (status: "ok" | "error", outputBytes: number, computeMs: number | undefined) => {
    if (finished) return;
    finished = true;
    clientSignal.removeEventListener("abort", onClientAbort);
    const usage: UsageInput = {
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
    };
    // After the answer is written (setImmediate runs after this turn's I/O; a microtask would run
    // before the server writes the response): the release and the usage event cost a Redis write
    // and an event's encoding that the client must not wait for. Neither awaited: a lost release
    // frees itself after the lease time; a bad event surfaces only in the logs.
    setImmediate(() => {
      void services.quota.release(decision.lease).catch(() => undefined);
      emitUsage(services, usage);
    });
  };
  clientSignal.addEventListener("abort", onClientAbort, { once: true });

  let upstream: Awaited<ReturnType<GatewayServices["upstreams"]["forward"]>>;
  try {
    body = await bodyRead;
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
  const compute = Number.isFinite(computeMs) ? computeMs : undefined;
  const ok = upstream.statusCode >= 200 && upstream.statusCode < 300;
  const headers = responseHeaders(upstream.headers, decision.headers);
  headers[REQUEST_ID_HEADER] = requestId;
  c.set("requestIdInResponse", true);
  const length = Number(upstream.headers["content-length"]);
  if (Number.isInteger(length) && length <= bufferBytes) {
    // Known and small: read whole, answered in one write (no web stream per request).
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await upstream.body.arrayBuffer());
    } catch (err) {
      finish("error", 0, compute);
      if (clientSignal.aborted) throw err;
      throw new AppError("UPSTREAM_UNAVAILABLE", "the model's inference service failed mid-answer");
    }
    finish(ok ? "ok" : "error", bytes.byteLength, compute);
    return new Response(bytes, { status: upstream.statusCode, headers });
  }
  const stream = passThrough(upstream.body, (end: PassThroughEnd) =>
    finish(ok && end.outcome === "completed" ? "ok" : "error", end.bytes, compute),
  );
  return new Response(stream, { status: upstream.statusCode, headers });
}

/** The client's body: read whole when its length is known and at most `bufferBytes`, else streamed. */
async function readRequestBody(c: Context<GatewayEnv>, bufferBytes: number): Promise<RequestBody> {
  const length = Number(c.req.header("content-length"));
  if (Number.isInteger(length) && length <= bufferBytes) {
    return new RequestBody(new Uint8Array(await c.req.arrayBuffer()));
  }
  return new RequestBody(c.req.raw.body);
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
  try {
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
  } catch (err) {
    services.usage.unbuildable(err);
  }
}
