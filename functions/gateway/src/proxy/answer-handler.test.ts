import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { AnswerHandler, type UpstreamAnswer } from "./answer-handler.js";

let server: Server | undefined;
let pool: Pool | undefined;
afterEach(async () => {
  await pool?.destroy();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
  pool = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Pool> {
  server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 2 });
  return pool;
}

function dispatch(p: Pool, bufferBytes: number, signal = new AbortController().signal) {
  return new Promise<UpstreamAnswer>((resolve, reject) =>
    p.dispatch({ method: "GET", path: "/" }, new AnswerHandler(resolve, reject, bufferBytes, signal)),
  );
}

describe("AnswerHandler", () => {
  it("reads an answer of declared length within the limit whole, with status and headers", async () => {
    const p = await serve((_req, res) => {
      res.writeHead(201, { "content-length": "5", "x-compute": "1.5" });
      res.write("he");
      setTimeout(() => res.end("llo"), 10);
    });
    const answer = await dispatch(p, 5);
    expect(answer.statusCode).toBe(201);
    expect(answer.headers["x-compute"]).toBe("1.5");
    expect(answer.bytes?.toString()).toBe("hello");
    expect(answer.body).toBeUndefined();
  });

  it("streams an answer past the limit or without a length, every byte in order", async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const p = await serve((_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 32; i++) res.write(chunk);
      res.end();
    });
    const answer = await dispatch(p, 1024);
    expect(answer.bytes).toBeUndefined();
    let bytes = 0;
    for await (const c of answer.body as AsyncIterable<Buffer>) {
      expect(c.every((b) => b === 7)).toBe(true);
      bytes += c.byteLength;
    }
    expect(bytes).toBe(32 * chunk.byteLength);
  });

  it("rejects when a buffered answer breaks off before its declared length", async () => {
    const p = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("only part");
      setTimeout(() => res.socket?.destroy(), 10);
    });
    await expect(dispatch(p, 1000)).rejects.toMatchObject({ code: expect.stringMatching(/^UND_ERR/) });
  });

  it("aborts the upstream request when the signal fires before the answer", async () => {
    let upstreamClosed: Promise<unknown> = Promise.resolve();
    const p = await serve((req, _res) => {
      upstreamClosed = once(req.socket, "close");
    });
    const abort = new AbortController();
    const answer = dispatch(p, 1000, abort.signal);
    await new Promise((r) => setTimeout(r, 50));
    abort.abort(new Error("client went away"));
    await expect(answer).rejects.toThrow("client went away");
    await upstreamClosed;
  });

  it("aborts the upstream request when the consumer destroys a streamed answer", async () => {
    let upstreamClosed: Promise<unknown> = Promise.resolve();
    const p = await serve((req, res) => {
      upstreamClosed = once(req.socket, "close");
      res.writeHead(200);
      res.write("first");
      // never ends
    });
    const answer = await dispatch(p, 0);
    const body = answer.body as NonNullable<typeof answer.body>;
    const [first] = (await once(body, "data")) as [Buffer];
    expect(first.toString()).toBe("first");
    body.destroy();
    await upstreamClosed;
  });
});
