import { connect, createServer, type Socket } from "node:net";

export interface FlakyProxy {
  url: string;
  /** Connections dropped on purpose so far. */
  readonly dropped: number;
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of `target` that drops some connections mid-request: every `dropEvery`-th
 * connection is cut after `afterBytes` bytes from the client (a part upload dies half-sent, as on a
 * flaky link). TCP-level, so the Host header, and with it a presigned URL's signature, is unchanged.
 *
 * @example
 * const proxy = await startFlakyProxy({ target: "http://127.0.0.1:59000", dropEvery: 3, afterBytes: 1 << 20 });
 */
export async function startFlakyProxy(options: {
  target: string;
  dropEvery: number;
  afterBytes: number;
  maxDrops?: number;
}): Promise<FlakyProxy> {
  const target = new URL(options.target);
  let connections = 0;
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    connections++;
    const doomed =
      connections % options.dropEvery === 0 && dropped < (options.maxDrops ?? Number.POSITIVE_INFINITY);
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    let seen = 0;
    client.on("data", (chunk: Buffer) => {
      seen += chunk.length;
      if (doomed && seen >= options.afterBytes) {
        dropped++;
        client.destroy();
        upstream.destroy();
        return;
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.on("data", (chunk: Buffer) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on("drain", () => upstream.resume());
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get dropped() {
      return dropped;
    },
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
