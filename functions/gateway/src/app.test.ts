import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { captureLogger } from "@maas/runtime/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
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

/**
 * How a test reaches the gateway: `app` through Hono in-process (app.request), `port` over a real
 * connection to the served port, where infer with a small known-length body is answered by the
 * native path (routes/v2-infer-native.ts) and everything else by the same app.
 */
type Via = "app" | "port";

async function setup(
  handler: Parameters<typeof upstreamServer>[0],
  overrides: Partial<GatewayServices> = {},
  via: Via = "app",
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
  const captured = captureLogger();
  const fn = createGateway(services, { logger: captured.logger });
  const fetchSpy = vi.spyOn(fn.app, "fetch");
  let origin: string | undefined;
  if (via === "port") {
    const server = await fn.serve({ port: 0, hostname: "127.0.0.1" });
    cleanups.push(() => server.close());
    origin = `http://127.0.0.1:${server.port}`;
  }
  const request = (path: string, init: RequestInit = {}): Promise<Response> => {
    if (origin === undefined) return Promise.resolve(fn.app.request(path, init));
    const headers = new Headers(init.headers);
    // Bytes sent without a length must stream over the wire too (fetch would add one); strings go
    // as they are, with the length fetch gives them.
    if (init.body instanceof Uint8Array && !headers.has("content-length")) {
      const bytes = init.body;
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array(bytes));
          controller.close();
        },
      });
      return fetch(`${origin}${path}`, { ...init, body: stream, duplex: "half" } as RequestInit);
    }
    headers.delete("content-length");
    return fetch(`${origin}${path}`, { ...init, headers });
  };
  return { fn, quota, usage, upstream, upstreams, request, fetchSpy, lines: captured.lines };
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

describe.each(["app", "port"] as const)("gateway v2 infer (via %s)", (via) => {
  // Buffered: a known length within bufferBytes is read whole and answered in one piece; streamed:
  // past it (or without a length) bytes flow through web streams. Same bytes and effects either way.
  it.each([
    { mode: "buffered", bufferBytes: 1024 * 1024, withLength: true },
    { mode: "streamed (over bufferBytes)", bufferBytes: 1024, withLength: true },
    { mode: "streamed (no content-length)", bufferBytes: 1024 * 1024, withLength: false },
  ])(
    "passes a binary tensor body through untouched both ways, $mode, with the quota headers, then releases and meters",
    async ({ bufferBytes, withLength }) => {
      const { request, quota, usage } = await setup(echo, { bufferBytes }, via);
      const body = randomBytes(256 * 1024);
      const res = await request("/v2/models/resnet/infer", {
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
    const { request, quota } = await setup(echo, {}, via);
    const res = await request("/v2/models/resnet/infer", { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
    expect(quota.decided).toBe(0);
  });

  it("answers 404 for another tenant's model name, the same as for an unknown one", async () => {
    const { request, quota } = await setup(echo, {}, via);
    for (const path of [
      "/v2/models/other/infer",
      "/v2/models/nope/infer",
      "/v2/models/resnet/versions/x/infer",
    ]) {
      const res = await request(path, {
        method: "POST",
        headers: { authorization: "Bearer key-a" },
        body: "{}",
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    }
    const metadata = await request("/v2/models/other", { headers: { authorization: "Bearer key-a" } });
    expect(metadata.status).toBe(404);
    expect(quota.decided).toBe(0);
  });

  it("turns a rejected decision into the quota module's 429 with its headers, without calling upstream", async () => {
    let calls = 0;
    const { request, quota } = await setup(
      (req, res) => {
        calls++;
        echo(req, res);
      },
      {},
      via,
    );
    quota.reject = {
      allowed: false,
      limit: "rate",
      value: 10,
      used: 10,
      retryAfterSeconds: 1,
      headers: { "Retry-After": "1", RateLimit: '"qps";r=0;t=1' },
      degraded: false,
    };
    const res = await request("/v2/models/resnet/infer", {
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
    const { request, quota, usage, upstream, upstreams } = await setup(echo, {}, via);
    await upstream.close();
    const call = () =>
      request("/v2/models/resnet/infer", {
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

describe("gateway infer on the served port: the native path keeps the app's contract", () => {
  const post = (headers: Record<string, string> = {}, body = "{}") => ({
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

  it("answers small known-length infer bodies without the app, streamed ones through it", async () => {
    const { request, fetchSpy, lines } = await setup(echo, { bufferBytes: 1024 }, "port");
    const small = await request(
      "/v2/models/resnet/infer",
      post({ authorization: "Bearer key-a", "x-request-id": "trace-1" }),
    );
    expect(small.status).toBe(200);
    expect(small.headers.get("x-request-id")).toBe("trace-1");
    expect(await small.text()).toBe("{}");
    expect(fetchSpy).not.toHaveBeenCalled();
    // Its access log line is the app's: method, path, status, the request id bound.
    expect(lines.find((l) => l.msg === "POST /v2/models/resnet/infer 200")).toMatchObject({
      level: "info",
      requestId: "trace-1",
      method: "POST",
      path: "/v2/models/resnet/infer",
      status: 200,
    });
    const large = await request(
      "/v2/models/resnet/infer",
      post({ authorization: "Bearer key-a" }, JSON.stringify({ pad: "x".repeat(2048) })),
    );
    expect(large.status).toBe(200);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    // Both land in the app's HTTP metrics under the route pattern.
    const metrics = await (await request("/metrics")).text();
    expect(metrics).toMatch(
      /http_requests_total\{function="gateway",method="POST",route="\/v2\/models\/:name\/infer",status="200"\} 2/,
    );
  });

  it("refuses exactly as the app does: same status, body and headers", async () => {
    const viaApp = await setup(echo, {}, "app");
    const viaPort = await setup(echo, {}, "port");
    for (const s of [viaApp, viaPort]) {
      s.quota.reject = {
        allowed: false,
        limit: "concurrency",
        value: 2,
        used: 2,
        retryAfterSeconds: 1,
        headers: { "Retry-After": "1", RateLimit: '"concurrency";r=0' },
        degraded: false,
      };
    }
    const cases: [string, RequestInit][] = [
      ["/v2/models/resnet/infer", post()],
      ["/v2/models/resnet/infer", post({ authorization: "Basic abc" })],
      ["/v2/models/resnet/infer", post({ authorization: "Bearer nope" })],
      ["/v2/models/other/infer", post({ authorization: "Bearer key-a" })],
      ["/v2/models/resnet/versions/0/infer", post({ authorization: "Bearer key-a" })],
      ["/v2/models/resnet/versions/3/infer?x=1", post({ authorization: "Bearer key-a" })],
    ];
    const shape = async (res: Response) => {
      const body = (await res.json()) as { error: { requestId: string } };
      expect(res.headers.get("x-request-id")).toBe(body.error.requestId);
      return {
        status: res.status,
        body: { ...body, error: { ...body.error, requestId: "(id)" } },
        contentType: res.headers.get("content-type")?.split(";")[0],
        challenge: res.headers.get("www-authenticate"),
        retryAfter: res.headers.get("retry-after"),
        rateLimit: res.headers.get("ratelimit"),
      };
    };
    for (const [path, init] of cases) {
      const expected = await shape(await viaApp.request(path, init));
      expect(expected.status).toBeGreaterThanOrEqual(400);
      expect(await shape(await viaPort.request(path, init))).toEqual(expected);
    }
    expect(viaPort.fetchSpy).not.toHaveBeenCalled();
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
