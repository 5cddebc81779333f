import { AppError, type ErrorBody } from "@maas/errors";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { captureLogger } from "../../testing/capture-logger.js";
import type { AppEnv } from "../../types.js";
import { accessLog } from "../access-log/index.js";
import { requestId } from "../request-id/index.js";
import { errorHandler, notFoundHandler } from "./index.js";

function setup() {
  const { logger, lines } = captureLogger();
  const app = new Hono<AppEnv>();
  app.use(requestId(), accessLog({ logger }));
  app.onError(errorHandler({ logger }));
  app.notFound(notFoundHandler());
  app.get("/conflict", () => {
    throw new AppError("CONFLICT", "slug taken", { details: { slug: "acme" } });
  });
  app.get("/limited", () => {
    throw new AppError("RATE_LIMITED", "too many requests", {
      retryAfterSeconds: 2.2,
      headers: { "ratelimit-policy": "10;w=1" },
    });
  });
  app.get("/bug", () => {
    throw new TypeError("secret=hunter2 is not a function");
  });
  app.get("/hono", () => {
    throw new HTTPException(413, { message: "body too big" });
  });
  return { app, lines };
}

const body = async (res: Response) => (await res.json()) as ErrorBody;

describe("errorHandler", () => {
  it("renders an AppError as the one body with its status", async () => {
    const { app } = setup();
    const res = await app.request("/conflict", { headers: { "x-request-id": "r1" } });
    expect(res.status).toBe(409);
    expect(await body(res)).toEqual({
      error: {
        code: "CONFLICT",
        message: "slug taken",
        requestId: "r1",
        docs: "https://docs.maas.dev/errors/conflict",
        details: { slug: "acme" },
      },
    });
  });

  it("sets Retry-After (whole seconds, rounded up) and the error's extra headers", async () => {
    const { app } = setup();
    const res = await app.request("/limited");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(res.headers.get("ratelimit-policy")).toBe("10;w=1");
    expect((await body(res)).error.code).toBe("RATE_LIMITED");
  });

  it("turns an unknown error into 500 INTERNAL without leaking it, and logs its stack", async () => {
    const { app, lines } = setup();
    const res = await app.request("/bug", { headers: { "x-request-id": "r-bug" } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("hunter2");
    expect(JSON.parse(text)).toMatchObject({ error: { code: "INTERNAL", requestId: "r-bug" } });
    const logged = lines.find((l) => l.err !== undefined);
    expect(logged).toMatchObject({ level: "error", requestId: "r-bug" });
    expect(logged?.err?.stack).toContain("TypeError");
  });

  it("does not log expected 4xx errors as errors", async () => {
    const { app, lines } = setup();
    await app.request("/conflict");
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("maps Hono's HTTPException onto a fixed code", async () => {
    const { app } = setup();
    const res = await app.request("/hono");
    expect(res.status).toBe(413);
    expect((await body(res)).error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", message: "body too big" });
  });
});

describe("notFoundHandler", () => {
  it("answers unknown routes with 404 NOT_FOUND in the same body", async () => {
    const { app } = setup();
    const res = await app.request("/nope", { method: "DELETE", headers: { "x-request-id": "r404" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toBe("r404");
    expect((await body(res)).error).toMatchObject({
      code: "NOT_FOUND",
      message: "no route for DELETE /nope",
      requestId: "r404",
    });
  });
});
