import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { Principal } from "@maas/auth";
import type { AppError } from "@maas/errors";
import {
  type HttpMetricsRecorder,
  isSaneRequestId,
  type Logger,
  type NativeHandler,
  newRequestId,
  REQUEST_ID_HEADER,
  toAppError,
  writeAccessLog,
} from "@maas/runtime";
import { nodeHeaderReader } from "../proxy/headers.js";
import type { PassThroughEnd } from "../proxy/pass-through.js";
import { RequestBody } from "../proxy/request-body.js";
import type { GatewayServices } from "../services.js";
import { resolveTenantRoute } from "./resolve.js";
import { proxyInfer } from "./v2-infer.js";

/** Names and versions with a `%` are left to Hono, whose parameter decoding is the reference. */
const INFER_PATH = /^\/v2\/models\/([^/?#%]+)(?:\/versions\/([^/?#%]+))?\/infer(?:\?[^#]*)?$/;
const ROUTE = "/v2/models/:name/infer";
const VERSIONED_ROUTE = "/v2/models/:name/versions/:version/infer";

export interface NativeInferDeps {
  /** The app's `requestAuthenticator` (same refusals as its `authenticate` middleware). */
  authenticate: (header: (name: string) => string | undefined) => Promise<Principal>;
  logger: Logger;
  /** Records into the app's `http_requests_total` / `http_request_duration_seconds` series. */
  recordHttp: HttpMetricsRecorder;
}

/**
 * `POST /v2/models/{name}[/versions/{v}]/infer` on node:http's own request and response, ahead of
 * the Hono app, for bodies of known length up to `bufferBytes` (every other request goes on to
 * Hono, which serves the same route with streamed bodies). Same contract as the app's: request id
 * (the caller's when sane), authentication with the same refusals, the same 404 for anything not
 * the caller's, one quota decision, the same JSON error body, access log line and HTTP metrics;
 * `proxyInfer` is shared. What it saves per request is the Web Request/Response/Headers objects,
 * Hono's context and middleware chain, and the node-server adapter's stream: the largest part of the
 * gateway's own CPU after the sockets (bench/results/gateway.json).
 *
 * @example
 * createFunction({ ..., intercept: nativeInfer(services, { authenticate, logger, recordHttp }) });
 */
export function nativeInfer(services: GatewayServices, deps: NativeInferDeps): NativeHandler {
  return (req, res) => {
    if (req.method !== "POST") return false;
    const match = INFER_PATH.exec(req.url ?? "");
    if (match === null) return false;
    const length = Number(req.headers["content-length"]);
    if (!Number.isInteger(length) || length > services.bufferBytes) return false;
    void handle(services, deps, req, res, match[1] as string, match[2], length);
    return true;
  };
}

async function handle(
  services: GatewayServices,
  deps: NativeInferDeps,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  version: string | undefined,
  length: number,
): Promise<void> {
  const started = performance.now();
  const header = nodeHeaderReader(req.headers);
  const incoming = header(REQUEST_ID_HEADER);
  const requestId = isSaneRequestId(incoming) ? incoming : newRequestId();
  const route = version === undefined ? ROUTE : VERSIONED_ROUTE;
  let status: number;
  try {
    const principal = await deps.authenticate(header);
    const resolved = await resolveTenantRoute(services, principal, name, version);
    const upstreamAbort = new AbortController();
    // "close" before the response finished: the client went away.
    const onClose = () => {
      if (!res.writableFinished) upstreamAbort.abort();
    };
    res.once("close", onClose);
    const answer = await proxyInfer(services, {
      ...resolved,
      requestId,
      principal,
      readBody: () => readBody(req, length),
      header,
      upstreamAbort,
    });
    status = answer.status;
    res.writeHead(answer.status, answer.headers);
    if (answer.bytes !== undefined) {
      res.end(answer.bytes);
    } else {
      pipeAnswer(answer.stream, res, answer.end);
    }
  } catch (err) {
    const error = toAppError(err);
    status = error.status;
    if (status >= 500) {
      deps.logger.error({ err, requestId, code: error.code }, `unhandled error: ${(err as Error).message}`);
    }
    writeError(res, error, requestId);
  }
  const elapsedMs = performance.now() - started;
  deps.recordHttp("POST", route, status, elapsedMs / 1000);
  // The line's level as writeAccessLog picks it; the child logger only when it will be written.
  if (deps.logger.isLevelEnabled(status >= 500 ? "error" : status >= 400 ? "warn" : "info")) {
    const path = (req.url ?? "").split("?", 1)[0] as string;
    writeAccessLog(deps.logger.child({ requestId }), "POST", path, status, elapsedMs);
  }
}

/** The body, read whole (its length is known and small: nativeInfer only takes those). */
function readBody(req: IncomingMessage, length: number): Promise<RequestBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => {
      const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
      resolve(new RequestBody(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
    });
    req.once("error", reject);
    // "aborted" then "close" without "end": the client went away mid-body.
    req.once("close", () => {
      if (!req.complete) reject(new Error("client closed the request before its body ended"));
    });
  });
}

/** The upstream's body to the client byte for byte, `end` called once with how it ended. */
function pipeAnswer(body: Readable, res: ServerResponse, end: (end: PassThroughEnd) => void): void {
  let bytes = 0;
  let ended = false;
  const done = (outcome: PassThroughEnd["outcome"]) => {
    if (ended) return;
    ended = true;
    end({ outcome, bytes });
  };
  body.on("data", (chunk: Buffer) => {
    bytes += chunk.byteLength;
    if (!res.write(chunk)) {
      body.pause();
      res.once("drain", () => body.resume());
    }
  });
  body.once("end", () => {
    res.end();
    done("completed");
  });
  body.once("error", () => {
    done("failed");
    res.destroy();
  });
  res.once("close", () => {
    if (!ended) {
      body.destroy();
      done("aborted");
    }
  });
}

/** The one error body (runtime renderError's shape), with Retry-After and the error's headers. */
function writeError(res: ServerResponse, error: AppError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  for (const key in error.headers) headers[key.toLowerCase()] = error.headers[key] as string;
  if (error.retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(Math.max(0, Math.ceil(error.retryAfterSeconds)));
  }
  headers["content-type"] = "application/json";
  headers[REQUEST_ID_HEADER] = requestId;
  res.writeHead(error.status, headers);
  res.end(JSON.stringify(error.toBody(requestId)));
}
