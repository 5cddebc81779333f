import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { bodyLimit } from "./index.js";

function app(maxSize: number) {
  const a = new Hono();
  a.post("/", bodyLimit({ maxSize, onError: (c) => c.json({ error: "too large" }, 413) }), async (c) =>
    c.text(String((await c.req.arrayBuffer()).byteLength)),
  );
  return a;
}

function chunked(bytes: number): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let sent = 0; sent < bytes; sent += 100)
        controller.enqueue(new Uint8Array(Math.min(100, bytes - sent)));
      controller.close();
    },
  });
}

describe("bodyLimit", () => {
  it("admits a declared length within the limit and the handler reads the whole body", async () => {
    const res = await app(1000).request("/", {
      method: "POST",
      headers: { "content-length": "1000" },
      body: new Uint8Array(1000),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("1000");
  });

  it("rejects a declared length over the limit before reading, and a malformed one", async () => {
    const over = await app(1000).request("/", {
      method: "POST",
      headers: { "content-length": "1001" },
      body: new Uint8Array(1001),
    });
    expect(over.status).toBe(413);
    const bad = await app(1000).request("/", {
      method: "POST",
      headers: { "content-length": "12abc" },
      body: new Uint8Array(5),
    });
    expect(bad.status).toBe(413);
  });

  it("counts a body without a declared length (chunked) while reading it", async () => {
    const init = (n: number) => ({ method: "POST", body: chunked(n), duplex: "half" }) as RequestInit;
    const ok = await app(1000).request("/", init(1000));
    expect(await ok.text()).toBe("1000");
    const over = await app(1000).request("/", init(1500));
    expect(over.status).toBe(413);
  });
});
