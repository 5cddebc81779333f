import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What a fake subscriber saw: raw headers (lower-case) and body of one POST. */
export interface ReceivedRequest {
  headers: IncomingMessage["headers"];
  body: string;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface FakeSubscriber {
  url: string;
  received: ReceivedRequest[];
  /** Replies in order; after the list is used up, `fallback` answers. */
  replies: FakeReply[];
  fallback: FakeReply;
  /** Resolves when `n` requests have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Holds every response until `release()` (to observe state while a delivery is in flight). */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1:0 standing in for a Knative subscriber (test helper).
 *
 * @example
 * const sub = await startFakeSubscriber([{ status: 500 }], { status: 200 });
 */
export async function startFakeSubscriber(
  replies: FakeReply[] = [],
  fallback: FakeReply = { status: 200 },
): Promise<FakeSubscriber> {
  const received: ReceivedRequest[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let held: (() => void)[] | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      for (const w of waiters.filter((x) => received.length >= x.n)) w.resolve();
      const reply = sub.replies.shift() ?? sub.fallback;
      const answer = () => {
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? "");
      };
      if (held) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  const sub: FakeSubscriber = {
    url: `http://127.0.0.1:${port}/`,
    received,
    replies: [...replies],
    fallback,
    waitFor: (n, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        if (received.length >= n) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`waited for ${n} requests, got ${received.length}`)),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    hold: () => {
      held = [];
    },
    release: () => {
      const pending = held ?? [];
      held = undefined;
      for (const answer of pending) answer();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return sub;
}
