import { request } from "node:http";
import { createEvent, encodeHttpBinary, events, type MaasEvent } from "@maas/events";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { type AppEnv, createFunction } from "./index.js";
import { captureLogger } from "./testing/capture-logger.js";

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("createFunction", () => {
  it("serves the function's routes with typed context variables, plus health and metrics", async () => {
    type Env = AppEnv & { Variables: { tenant: string } };
    const fn = createFunction<Env>({
      name: "control",
      logger: captureLogger().logger,
      registry: new Registry(),
      routes: (app) => {
        app.use("/v1/*", async (c, next) => {
          c.set("tenant", "tnt_acme");
          await next();
        });
        app.get("/v1/whoami", (c) => c.json({ tenant: c.get("tenant"), requestId: c.get("requestId") }));
      },
    });
    const res = await fn.app.request("/v1/whoami", { headers: { "x-request-id": "r1" } });
    expect(await res.json()).toEqual({ tenant: "tnt_acme", requestId: "r1" });
    expect((await fn.app.request("/healthz")).status).toBe(200);
    const metrics = await (await fn.app.request("/metrics")).text();
    expect(metrics).toContain(
      'http_requests_total{function="control",method="GET",route="/v1/whoami",status="200"} 1',
    );
    expect(metrics).toContain("process_resident_memory_bytes");
  });

  it("is not ready until setReady(true)", async () => {
    const fn = createFunction({ name: "t", logger: captureLogger().logger, registry: new Registry() });
    expect((await fn.app.request("/readyz")).status).toBe(503);
    fn.setReady(true);
    expect(fn.isReady()).toBe(true);
    expect((await fn.app.request("/readyz")).status).toBe(200);
  });

  it("dispatches events to the registered handler on POST /", async () => {
    const got: MaasEvent[] = [];
    const fn = createFunction({
      name: "deployer",
      logger: captureLogger().logger,
      registry: new Registry(),
      events: { [events.deploymentDeleted.type]: async (e) => void got.push(e) },
    });
    const event = createEvent(events.deploymentDeleted, {
      source: "/functions/control",
      data: { tenantId: "tnt_acme", deploymentId: "dep_1" },
    });
    const m = encodeHttpBinary(event);
    const res = await fn.app.request("/", { method: "POST", headers: m.headers, body: m.body });
    expect(res.status).toBe(202);
    expect(got.map((e) => e.id)).toEqual([event.id]);
  });

  it("answers events with 400 when it registers no handlers at all", async () => {
    const fn = createFunction({ name: "gateway", logger: captureLogger().logger, registry: new Registry() });
    const m = encodeHttpBinary(
      createEvent(events.deploymentDeleted, {
        source: "/x",
        data: { tenantId: "tnt_acme", deploymentId: "dep_1" },
      }),
    );
    const res = await fn.app.request("/", { method: "POST", headers: m.headers, body: m.body });
    expect(res.status).toBe(400);
  });

  it("uses one registry for two functions without duplicate-metric errors", () => {
    const registry = new Registry();
    createFunction({ name: "a", logger: captureLogger().logger, registry });
    expect(() => createFunction({ name: "b", logger: captureLogger().logger, registry })).not.toThrow();
  });

  it("shuts down gracefully on a real server: readyz 503, in-flight finishes, new connections refused, then publisher and onShutdown", async () => {
    const steps: string[] = [];
    let release: () => void = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    let entered: () => void = () => {};
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    const fn = createFunction({
      name: "t",
      logger: captureLogger().logger,
      registry: new Registry(),
      publisher: {
        publish: async () => {},
        close: async () => void steps.push("publisher closed"),
      },
      onShutdown: async () => void steps.push("onShutdown"),
      routes: (app) =>
        app.get("/slow", async (c) => {
          entered();
          await released;
          steps.push("slow answered");
          return c.text("done");
        }),
    });
    const { port } = await fn.serve({ port: 0, hostname: "127.0.0.1" });
    fn.setReady(true);

    const slow = get(port, "/slow");
    await inside;
    const shutdown = fn.shutdown("SIGTERM");
    expect((await fn.app.request("/readyz")).status).toBe(503);
    await expect(get(port, "/healthz")).rejects.toMatchObject({ code: "ECONNREFUSED" });

    release();
    expect(await slow).toEqual({ status: 200, body: "done" });
    await shutdown;
    expect(steps).toEqual(["slow answered", "publisher closed", "onShutdown"]);
    expect(fn.shutdown("SIGTERM")).toBe(shutdown);
  });

  it("tries every shutdown step and rejects when one failed", async () => {
    const { logger, lines } = captureLogger();
    let ran = false;
    const fn = createFunction({
      name: "t",
      logger,
      registry: new Registry(),
      publisher: {
        publish: async () => {},
        close: async () => {
          throw new Error("flush failed");
        },
      },
      onShutdown: async () => {
        ran = true;
      },
    });
    await expect(fn.shutdown()).rejects.toBeInstanceOf(AggregateError);
    expect(ran).toBe(true);
    expect(lines.find((l) => l.msg === "shutdown: closing publisher failed")?.level).toBe("error");
  });
});
