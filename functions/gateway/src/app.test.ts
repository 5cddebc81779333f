import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { captureLogger } from "@maas/runtime/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createGateway, type GatewayServices } from "./app.js";
import type { Route } from "./routing/route-resolver.js";
import {
  FakeQuota,
  fakeRoutes,
  fakeServices,
  fakeVerifier,
  keyPrincipal,
  MemoryUsage,
  testUpstreams,
  upstreamServer,
} from "./testing/fakes.js";

const A = "tnt_aaaa";
const B = "tnt_bbbb";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function route(url: string, name = "resnet"): Route {
  return { deploymentId: "dep_1", modelId: "mdl_1", versionId: "mver_1", modelName: name, version: 3, url };
}

async function setup(
  handler: Parameters<typeof upstreamServer>[0],
  overrides: Partial<GatewayServices> = {},
) {
  const upstream = await upstreamServer(handler);
  cleanups.push(upstream.close);
  const quota = new FakeQuota();
  const usage = new MemoryUsage();
  const upstreams = testUpstreams();
  cleanups.push(() => upstreams.close());
  const services = fakeServices({
    verifier: fakeVerifier({ "key-a": keyPrincipal(A), "key-b": keyPrincipal(B, "key_2") }),
    routes: fakeRoutes({
      [`${A}/resnet`]: route(upstream.url),
      [`${B}/other`]: route(upstream.url, "other"),
    }),
    quota,
    usage,
    upstreams,
    ...overrides,
  });
  const { logger } = captureLogger();
  const fn = createGateway(services, { logger });
  return { fn, quota, usage, upstream, upstreams };
}

/** Echoes the body with the request's binary-extension header, as the inference service would answer. */
const echo: Parameters<typeof upstreamServer>[0] = (req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    res.writeHead(200, {
      "content-type": req.headers["content-type"] ?? "application/octet-stream",
      "inference-header-content-length": req.headers["inference-header-content-length"] ?? "0",
      "x-inference-compute-ms": "4.250",
      "x-seen-path": req.url ?? "",
      "x-seen-auth": req.headers.authorization ?? "none",
    });
    res.end(Buffer.concat(chunks));
  });
};

describe("gateway v2 infer", () => {
  // Buffered: a known length within bufferBytes is read whole and answered in one piece; streamed:
  // past it (or without a length) bytes flow through web streams. Same bytes and effects either way.
  it.each([
    { mode: "buffered", bufferBytes: 1024 * 1024, withLength: true },
    { mode: "streamed (over bufferBytes)", bufferBytes: 1024, withLength: true },
    { mode: "streamed (no content-length)", bufferBytes: 1024 * 1024, withLength: false },
  ])(
    "passes a binary tensor body through untouched both ways, $mode, with the quota headers, then releases and meters",
    async ({ bufferBytes, withLength }) => {
      const { fn, quota, usage } = await setup(echo, { bufferBytes });
      const body = randomBytes(256 * 1024);
      const res = await fn.app.request("/v2/models/resnet/infer", {
        method: "POST",
        headers: {
          authorization: "Bearer key-a",
          "content-type": "application/octet-stream",
          "inference-header-content-length": "42",
          ...(withLength && { "content-length": String(body.length) }),
        },
        body,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("inference-header-content-length")).toBe("42");
      expect(res.headers.get("x-seen-path")).toBe("/v2/models/resnet/versions/3/infer");
      expect(res.headers.get("x-seen-auth")).toBe("none");
      expect(res.headers.get("ratelimit")).toBe('"qps";r=9;t=1');
      expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
      await expect.poll(() => usage.events.length).toBe(1);
      await expect.poll(() => quota.released.length).toBe(1);
      expect(usage.events[0]?.data).toMatchObject({
        tenantId: A,
        deploymentId: "dep_1",
        status: "ok",
        durationMs: 4.25,
        inputBytes: body.length,
        outputBytes: body.length,
        costMicros: 100,
        apiKeyId: "key_1",
      });
    },
  );

  it("answers 401 without credentials and never decides", async () => {
    const { fn, quota } = await setup(echo);
    const res = await fn.app.request("/v2/models/resnet/infer", { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
    expect(quota.decided).toBe(0);
  });

  it("answers 404 for another tenant's model name, the same as for an unknown one", async () => {
    const { fn, quota } = await setup(echo);
    for (const path of [
      "/v2/models/other/infer",
      "/v2/models/nope/infer",
      "/v2/models/resnet/versions/x/infer",
    ]) {
      const res = await fn.app.request(path, {
        method: "POST",
        headers: { authorization: "Bearer key-a" },
        body: "{}",
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    }
    const metadata = await fn.app.request("/v2/models/other", { headers: { authorization: "Bearer key-a" } });
    expect(metadata.status).toBe(404);
    expect(quota.decided).toBe(0);
  });

  it("turns a rejected decision into the quota module's 429 with its headers, without calling upstream", async () => {
    let calls = 0;
    const { fn, quota } = await setup((req, res) => {
      calls++;
      echo(req, res);
    });
    quota.reject = {
      allowed: false,
      limit: "rate",
      value: 10,
      used: 10,
      retryAfterSeconds: 1,
      headers: { "Retry-After": "1", RateLimit: '"qps";r=0;t=1' },
      degraded: false,
    };
    const res = await fn.app.request("/v2/models/resnet/infer", {
      method: "POST",
      headers: { authorization: "Bearer key-a" },
      body: "{}",
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("ratelimit")).toBe('"qps";r=0;t=1');
    expect(await res.json()).toMatchObject({
      error: { code: "RATE_LIMITED", details: { limit: "rate", value: 10 } },
    });
    expect(calls).toBe(0);
  });

  it("retries connect errors, then answers 502 and releases; the breaker then opens", async () => {
    const { fn, quota, usage, upstream, upstreams } = await setup(echo);
    await upstream.close();
    const call = () =>
      fn.app.request("/v2/models/resnet/infer", {
        method: "POST",
        headers: { authorization: "Bearer key-a" },
        body: "{}",
      });
    const res = await call();
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: "UPSTREAM_UNAVAILABLE" } });
    await expect.poll(() => quota.released.length).toBe(1);
    await expect.poll(() => usage.events[0]?.data).toMatchObject({ status: "error", costMicros: 0 });
    // 3 attempts per request (1 + 2 retries) against a threshold of 3 consecutive failures.
    expect(upstreams.breakerState(upstream.url)).toBe("open");
    const fast = await call();
    expect(fast.status).toBe(502);
    expect(fast.headers.get("retry-after")).toBe("60");
  });

  it("releases the lease when the client goes away mid-response", async () => {
    const { fn, quota, usage } = await setup((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.write(Buffer.alloc(1024));
      // never ends
    });
    const server = await fn.serve({ port: 0, hostname: "127.0.0.1" });
    cleanups.push(() => server.close());
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: server.port,
          path: "/v2/models/resnet/infer",
          method: "POST",
          headers: { authorization: "Bearer key-a" },
        },
        (res) => {
          res.once("data", () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on("error", () => undefined);
      req.end("{}");
      setTimeout(() => reject(new Error("no response")), 3000);
    });
    await expect.poll(() => quota.released.length, { timeout: 3000 }).toBe(1);
    await expect.poll(() => usage.events[0]?.data).toMatchObject({ status: "error", outputBytes: 1024 });
  });
});

describe("gateway v2 metadata and health", () => {
  it("proxies model metadata and readiness pinned to the resolved version, without a decision", async () => {
    const { fn, quota } = await setup((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ path: req.url }));
    });
    const meta = await fn.app.request("/v2/models/resnet", { headers: { authorization: "Bearer key-a" } });
    expect(await meta.json()).toEqual({ path: "/v2/models/resnet/versions/3" });
    const ready = await fn.app.request("/v2/models/resnet/versions/3/ready", {
      headers: { authorization: "Bearer key-a" },
    });
    expect(await ready.json()).toEqual({ path: "/v2/models/resnet/versions/3/ready" });
    expect(quota.decided).toBe(0);
  });

  it("serves live/ready and server metadata without credentials", async () => {
    const { fn } = await setup(echo);
    expect((await fn.app.request("/v2/health/live")).status).toBe(200);
    expect((await fn.app.request("/v2/health/ready")).status).toBe(503);
    fn.setReady(true);
    expect((await fn.app.request("/v2/health/ready")).status).toBe(200);
    expect(await (await fn.app.request("/v2")).json()).toMatchObject({ name: "maas-gateway" });
  });
});
