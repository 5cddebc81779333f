import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AppError } from "@maas/errors";
import { decodeHttp, type MaasEvent } from "@maas/events";
import type { EventLog } from "./event-log.js";

/** One addressable on the ingress: a Broker (`/<ns>/<broker>`) or a KafkaSink (`/<ns>/<sink>`). */
export interface IngressRoute {
  /** e.g. `/maas/default`. */
  path: string;
  /** The topic an accepted event is appended to. */
  topicFor: (event: MaasEvent) => string;
}

export interface BrokerIngressOptions {
  log: EventLog;
  routes: readonly IngressRoute[];
  /** Largest accepted body; default 8 MiB. */
  maxBodyBytes?: number;
  onAccepted?: (event: MaasEvent, topic: string, path: string) => void;
}

export interface RunningIngress {
  url: string;
  server: Server;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { "content-type": "application/json" } : {}), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new AppError("PAYLOAD_TOO_LARGE", `event larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function errorBody(err: AppError, requestId: string) {
  return err.toBody(requestId);
}

/**
 * The Broker/KafkaSink ingress of the local platform: `POST /<namespace>/<name>` with a binary or
 * structured CloudEvent; a valid event is appended to its topic and answered 202 (Knative's broker
 * ingress status), an invalid one 400, an unknown path 404. `GET /healthz` answers 200.
 *
 * @example
 * const handler = createBrokerIngress({ log, routes: [{ path: "/maas/default", topicFor: () => "maas.events" }] });
 * http.createServer(handler).listen(0);
 */
export function createBrokerIngress(
  opts: BrokerIngressOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = new Map(opts.routes.map((r) => [r.path.replace(/\/+$/, ""), r]));
  if (routes.size !== opts.routes.length) throw new Error("two ingress routes share a path");
  const limit = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  let counter = 0;

  return (req, res) => {
    const requestId = `req_ingress_${++counter}`;
    const path = (req.url ?? "/").split("?")[0]!.replace(/\/+$/, "");
    if (req.method === "GET" && (path === "/healthz" || path === "/readyz"))
      return send(res, 200, { ok: true });
    const route = routes.get(path);
    if (!route)
      return send(res, 404, errorBody(new AppError("NOT_FOUND", `no broker or sink at ${path}`), requestId));
    if (req.method !== "POST") {
      return send(res, 405, errorBody(new AppError("METHOD_NOT_ALLOWED", "POST a CloudEvent"), requestId), {
        allow: "POST",
      });
    }
    void (async () => {
      let event: MaasEvent;
      try {
        event = decodeHttp(req.headers, await readBody(req, limit));
      } catch (err) {
        const e = AppError.from(err);
        return send(res, e.status, errorBody(e, requestId));
      }
      const topic = route.topicFor(event);
      try {
        await opts.log.append(topic, [event]);
      } catch (err) {
        // The producer retries a 5xx; the event was not stored.
        const e = new AppError("UPSTREAM_UNAVAILABLE", `could not append to ${topic}`, { cause: err });
        return send(res, 503, errorBody(e, requestId));
      }
      opts.onAccepted?.(event, topic, path);
      send(res, 202);
    })();
  };
}

/**
 * Starts the ingress on `host:port` (port 0 = any free port).
 *
 * @example
 * const ingress = await startBrokerIngress({ log, routes }, { port: 0 });
 * process.env.K_SINK = `${ingress.url}/maas/default`;
 */
export async function startBrokerIngress(
  opts: BrokerIngressOptions,
  listen: { host?: string; port?: number } = {},
): Promise<RunningIngress> {
  const server = createServer(createBrokerIngress(opts));
  const host = listen.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
