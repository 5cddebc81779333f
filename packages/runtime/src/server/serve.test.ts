import { request } from "node:http";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { captureLogger } from "../testing/capture-logger.js";
import { type RunningServer, startServer } from "./serve.js";

/** A plain GET on a fresh connection (agent: false), so "refused" means a new TCP connection was refused. */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("startServer", () => {
  it("serves on a free port", async () => {
    const app = new Hono().get("/", (c) => c.text("hi"));
    server = await startServer({
      fetch: app.fetch,
      port: 0,
      logger: captureLogger().logger,
      drainTimeoutMs: 1000,
    });
    expect(server.port).toBeGreaterThan(0);
    expect(await get(server.port, "/")).toEqual({ status: 200, body: "hi" });
  });

  it("on close: refuses new connections but lets an in-flight request finish", async () => {
    const entered = gate();
    const release = gate();
    const app = new Hono().get("/slow", async (c) => {
      entered.open();
      await release.opened;
      return c.text("finished");
    });
    server = await startServer({
      fetch: app.fetch,
      port: 0,
      logger: captureLogger().logger,
      drainTimeoutMs: 5000,
    });
    const port = server.port;

    const slow = get(port, "/slow");
    await entered.opened;
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });

    await expect(get(port, "/slow")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(closed).toBe(false);

    release.open();
    expect(await slow).toEqual({ status: 200, body: "finished" });
    await closing;
    expect(closed).toBe(true);
  });

  it("cuts off requests still running when the drain timeout expires", async () => {
    const entered = gate();
    const app = new Hono().get("/hang", async (c) => {
      entered.open();
      await new Promise(() => {});
      return c.text("never");
    });
    const { logger, lines } = captureLogger();
    server = await startServer({ fetch: app.fetch, port: 0, logger, drainTimeoutMs: 100 });
    const hanging = get(server.port, "/hang");
    await entered.opened;
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(2000);
    await expect(hanging).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(lines.find((l) => l.msg === "drain timed out")).toMatchObject({ level: "warn", inFlight: 1 });
  });
});
