import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Logger } from "../types.js";

export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface ServeOptions {
  port: number;
  /** Unset: all interfaces. */
  hostname?: string | undefined;
}

/**
 * Answers a request on node:http's own objects, ahead of the fetch handler; returns false to leave
 * it to the fetch handler. For a hot route whose Web Request/Response, middleware chain and
 * context objects cost more than its own work (the gateway's infer).
 */
export type NativeHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface StartServerOptions extends ServeOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  intercept?: NativeHandler | undefined;
  logger: Logger;
  /** Upper bound on waiting for in-flight requests once closing starts. */
  drainTimeoutMs: number;
}

export interface RunningServer {
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  /** Stops accepting connections, waits for in-flight requests (bounded), then closes the rest. */
  close(): Promise<void>;
}

/**
 * Serves a fetch handler on node:http and knows how many requests are in flight, so that close()
 * can drain them instead of cutting them off.
 *
 * @example
 * const server = await startServer({ fetch: app.fetch, port: 0, logger, drainTimeoutMs: 5_000 });
 * await server.close();
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  // Plain HTTP/1.1 (the default createServer), which is what Knative's queue-proxy speaks to us.
  const fetchListener = getRequestListener(options.fetch);
  const intercept = options.intercept;
  const server = createServer(
    intercept === undefined
      ? fetchListener
      : (req, res) => {
          if (!intercept(req, res)) void fetchListener(req, res);
        },
  );
  // Node closes a keep-alive connection after 5 s idle; the proxies in front (Knative's
  // queue-proxy, load balancers, the gateway's own pools) keep theirs longer, and a request sent on
  // a connection the server is closing fails with ECONNRESET, while a fresh connection costs the
  // first request a handshake. 65 s outlives the usual 60 s proxy idle timeout.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  server.on("request", (_req, res) => {
    inFlight++;
    // "close" fires for finished and aborted responses alike; "finish" would miss aborts.
    res.once("close", () => {
      inFlight--;
      if (inFlight === 0) onIdle?.();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // close() stops the listener at once (new connections are refused); its callback waits for
      // every open connection, which keep-alive clients would otherwise hold open indefinitely.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const drained = new Promise<boolean>((resolve) => {
        if (inFlight === 0) return resolve(true);
        onIdle = () => resolve(true);
        setTimeout(() => resolve(false), options.drainTimeoutMs).unref();
      });
      const inFlightAtStart = inFlight;
      if (await drained) {
        server.closeIdleConnections();
      } else {
        options.logger.warn({ inFlight, drainTimeoutMs: options.drainTimeoutMs }, "drain timed out");
        server.closeAllConnections();
      }
      // A keep-alive client may slip one more request in; the deadline covers that too.
      const late = setTimeout(() => server.closeAllConnections(), options.drainTimeoutMs);
      late.unref();
      await closed;
      clearTimeout(late);
      options.logger.info({ port, drained: inFlightAtStart }, "server closed");
    })();
    return closing;
  };

  return { port, close };
}
