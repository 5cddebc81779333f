import { AppError } from "@maas/errors";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { captureLogger, type LogLine } from "../../testing/capture-logger.js";
import type { AppEnv } from "../../types.js";
import { errorHandler } from "../error-handler/index.js";
import { requestId } from "../request-id/index.js";
import { accessLog } from "./index.js";

function setup() {
  const { logger, lines } = captureLogger();
  const app = new Hono<AppEnv>();
  app.use(requestId(), accessLog({ logger }));
  app.onError(errorHandler({ logger }));
  app.get("/ok", (c) => {
    c.get("logger").info("inside handler");
    return c.text("ok");
  });
  app.get("/healthz", (c) => c.text("ok"));
  app.get("/denied", () => {
    throw new AppError("FORBIDDEN", "nope");
  });
  app.get("/throttled", () => {
    throw new AppError("RATE_LIMITED", "slow down", { retryAfterSeconds: 1 });
  });
  app.get("/boom", () => {
    throw new Error("kaboom");
  });
  return { app, lines };
}

const access = (lines: LogLine[]) => lines.filter((l) => l.path !== undefined);

describe("accessLog", () => {
  it("logs a 2xx at info with method, path, status, duration and request id", async () => {
    const { app, lines } = setup();
    await app.request("/ok", { headers: { "x-request-id": "r-1" } });
    const [line] = access(lines);
    expect(line).toMatchObject({ level: "info", method: "GET", path: "/ok", status: 200, requestId: "r-1" });
    expect(typeof line?.durationMs).toBe("number");
  });

  it("binds the request id into the handler's logger", async () => {
    const { app, lines } = setup();
    await app.request("/ok", { headers: { "x-request-id": "r-2" } });
    expect(lines.find((l) => l.msg === "inside handler")?.requestId).toBe("r-2");
  });

  it("logs 4xx at warn, never error", async () => {
    const { app, lines } = setup();
    await app.request("/denied");
    await app.request("/throttled");
    await app.request("/missing");
    expect(access(lines).map((l) => l.level)).toEqual(["warn", "warn", "warn"]);
    expect(lines.some((l) => l.level === "error")).toBe(false);
  });

  it("logs 5xx at error with the request id", async () => {
    const { app, lines } = setup();
    await app.request("/boom", { headers: { "x-request-id": "r-5" } });
    expect(access(lines)).toEqual([
      expect.objectContaining({ level: "error", status: 500, requestId: "r-5" }),
    ]);
  });

  it("keeps probe paths at debug", async () => {
    const { app, lines } = setup();
    await app.request("/healthz");
    expect(access(lines)[0]?.level).toBe("debug");
  });
});
