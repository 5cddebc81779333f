import type { Readable } from "node:stream";
import type { HeaderReader, Principal } from "@maas/auth";
import { toAppError } from "@maas/quota";
import { REQUEST_ID_HEADER } from "@maas/runtime";
import type { Context, Hono } from "hono";
import type { UpstreamAnswer } from "../proxy/answer-handler.js";
import { forwardRequestHeaders, responseHeaders } from "../proxy/headers.js";
import { type PassThroughEnd, passThrough } from "../proxy/pass-through.js";
import { RequestBody } from "../proxy/request-body.js";
import type { Route } from "../routing/route-resolver.js";
import type { GatewayEnv, GatewayServices } from "../services.js";
import type { UsageRecord } from "../usage/usage-record.js";
import { resolveRoute, upstreamPath } from "./resolve.js";

/** The inference function's compute-time header (functions/inference/src/routes/v2-infer.ts). */
export const COMPUTE_MS_HEADER = "x-inference-compute-ms";

/**
 * `POST /v2/models/{name}[/versions/{v}]/infer` on the Hono app: authenticate (done by the app),
 * resolve the tenant's deployment, then `proxyInfer`. The served port answers the same route on
 * node:http's own objects first (v2-infer-native.ts) for bodies it can read whole; this one serves
 * the rest (streamed bodies) and `app.request` (tests, the local runner's in-process calls).
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
  const upstreamAbort = new AbortController();
  const clientSignal = c.req.raw.signal;
  const onClientAbort = () => upstreamAbort.abort(clientSignal.reason);
  clientSignal.addEventListener("abort", onClientAbort, { once: true });
  const detach = () => clientSignal.removeEventListener("abort", onClientAbort);
  let answer: InferAnswer;
  try {
    answer = await proxyInfer(services, {
      tenantId,
      route,
      requestId: c.get("requestId"),
      principal: c.get("principal"),
      readBody: () => readRequestBody(c, services.bufferBytes),
      header: (name) => c.req.header(name),
      upstreamAbort,
      onFinish: detach,
    });
  } catch (err) {
    detach();
    throw err;
  }
  c.set("requestIdInResponse", true);
  if (answer.bytes !== undefined) {
    return new Response(answer.bytes, { status: answer.status, headers: answer.headers });
  }
  return new Response(passThrough(answer.stream, answer.end), {
    status: answer.status,
    headers: answer.headers,
  });
}

/** The client's body: read whole when its length is known and at most `bufferBytes`, else streamed. */
async function readRequestBody(c: Context<GatewayEnv>, bufferBytes: number): Promise<RequestBody> {
  const length = Number(c.req.header("content-length"));
  if (Number.isInteger(length) && length <= bufferBytes) {
    return new RequestBody(new Uint8Array(await c.req.arrayBuffer()));
  }
  return new RequestBody(c.req.raw.body);
}

/** One authenticated infer call whose route is resolved, as either server path hands it over. */
export interface InferCall {
  tenantId: string;
  route: Route;
  requestId: string;
  principal: Principal;
  /** Starts reading the client's body; called at once, awaited after the quota decision. */
  readBody: () => Promise<RequestBody>;
  /** The client's request headers (those passed on: proxy/headers.ts). */
  header: HeaderReader;
  /** Aborted by the caller when the client goes away: the upstream request is cancelled. */
  upstreamAbort: AbortController;
  /** Called once when the call is over (answered, failed or abandoned). */
  onFinish?: () => void;
}

/** The upstream's answer for the client: whole bytes, or its body to stream with `end` called once. */
export type InferAnswer =
  | { status: number; headers: Record<string, string>; bytes: Uint8Array; stream?: never; end?: never }
  | {
      status: number;
      headers: Record<string, string>;
      bytes?: never;
      stream: Readable;
      end: (end: PassThroughEnd) => void;
    };

/**
 * The infer proxy itself, for both server paths: one quota decision (the body is read meanwhile),
 * forward over the upstream's keep-alive pool with the body untouched (binary tensors:
 * content-type and Inference-Header-Content-Length pass through), release the concurrency lease and
 * emit an `inference.completed` usage event when the answer is over, off the response's path.
 * Throws AppError for the caller's error body (429 from the decision, 502/504 from the upstream).
 */
export async function proxyInfer(services: GatewayServices, call: InferCall): Promise<InferAnswer> {
  const { tenantId, route, requestId, principal, upstreamAbort } = call;
  const { bufferBytes } = services;
  // A small body is read while the decision is made (it usually came with the headers).
  const bodyRead = call.readBody();
  bodyRead.catch(() => undefined);
  const estimate = services.estimateCostMicros(tenantId);
  const decision = await services.quota.decide({ tenantId, estimatedCostMicros: estimate });
  if (!decision.allowed) {
    call.onFinish?.();
    throw toAppError(decision);
  }

  const startedAt = new Date();
  const started = performance.now();
  let body = new RequestBody(null);
  let finished = false;
  const finish = (status: "ok" | "error", outputBytes: number, computeMs: number | undefined) => {
    if (finished) return;
    finished = true;
    call.onFinish?.();
    const usage: UsageRecord = {
      tenantId,
      deploymentId: route.deploymentId,
      modelId: route.modelId,
      versionId: route.versionId,
      requestId,
      ...(principal.kind === "api_key" && { apiKeyId: principal.keyId }),
      status,
      startedAt: startedAt.toISOString(),
      durationMs: Math.max(0, computeMs ?? performance.now() - started),
      inputBytes: body.bytesRead,
      outputBytes,
      costMicros: status === "ok" ? estimate : 0,
    };
    // After the answer is written (setImmediate runs after this turn's I/O; a microtask would run
    // before the server writes the response): the release and the usage record cost a Redis write
    // and a hand-off that the client must not wait for. Neither awaited: a lost release frees itself
    // after the lease time; a bad record surfaces only in the logs and usage_events_total.
    setImmediate(() => {
      void services.quota.release(decision.lease).catch(() => undefined);
      services.usage.record(usage);
    });
  };

  let upstream: UpstreamAnswer;
  try {
    body = await bodyRead;
    upstream = await services.upstreams.forward({
      origin: route.url,
      method: "POST",
      path: upstreamPath(route, "/infer"),
      headers: forwardRequestHeaders(call.header, requestId),
      body,
      signal: upstreamAbort.signal,
      // Known and small: read whole, answered in one write (no stream per request).
      bufferBytes,
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
  if (upstream.bytes !== undefined) {
    finish(ok ? "ok" : "error", upstream.bytes.byteLength, compute);
    return { status: upstream.statusCode, headers, bytes: upstream.bytes };
  }
  return {
    status: upstream.statusCode,
    headers,
    stream: upstream.body,
    end: (end: PassThroughEnd) =>
      finish(ok && end.outcome === "completed" ? "ok" : "error", end.bytes, compute),
  };
}
