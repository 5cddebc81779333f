import { AppError } from "@maas/errors";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { captureLogger } from "../../testing/capture-logger.js";
import type { AppEnv } from "../../types.js";
import { errorHandler } from "../error-handler/index.js";
import { isSaneRequestId, newRequestId, requestId } from "./index.js";

function app() {
  const a = new Hono<AppEnv>();
  a.use(requestId());
  a.onError(errorHandler({ logger: captureLogger().logger }));
  a.get("/", (c) => c.text(c.get("requestId")));
  a.get("/fail", () => {
    throw new AppError("FORBIDDEN", "no");
  });
  return a;
}

describe("requestId", () => {
  it("generates a req_ id when none is sent and echoes it", async () => {
    const res = await app().request("/");
    const id = await res.text();
    expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(res.headers.get("x-request-id")).toBe(id);
  });

  it("keeps a sane incoming id", async () => {
    const res = await app().request("/", { headers: { "x-request-id": "gw-1234.abc:7" } });
    expect(await res.text()).toBe("gw-1234.abc:7");
    expect(res.headers.get("x-request-id")).toBe("gw-1234.abc:7");
  });

  it.each([
    ["too long", "a".repeat(129)],
    ["spaces", "a b"],
    ["log injection", 'x","level":"fatal'],
    ["empty", ""],
  ])("replaces an unusable incoming id (%s)", async (_why, bad) => {
    const res = await app().request("/", { headers: { "x-request-id": bad } });
    const id = await res.text();
    expect(id).not.toBe(bad);
    expect(id).toMatch(/^req_/);
  });

  it("is on error responses too, matching the body", async () => {
    const res = await app().request("/fail", { headers: { "x-request-id": "abc" } });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-request-id")).toBe("abc");
    expect(((await res.json()) as { error: { requestId: string } }).error.requestId).toBe("abc");
  });

  it("leaves a handler's own Response alone when it says the id is in it", async () => {
    const a = new Hono<AppEnv>();
    a.use(requestId());
    a.get("/own", (c) => {
      c.set("requestIdInResponse", true);
      return new Response("x", { headers: { "x-request-id": c.get("requestId"), "x-own": "1" } });
    });
    a.get("/raw", () => new Response("x", { headers: { "x-own": "1" } }));
    const own = await a.request("/own", { headers: { "x-request-id": "abc" } });
    expect(own.headers.get("x-request-id")).toBe("abc");
    const raw = await a.request("/raw", { headers: { "x-request-id": "def" } });
    expect(raw.headers.get("x-request-id")).toBe("def");
    expect(raw.headers.get("x-own")).toBe("1");
  });

  it("new ids are unique and sane", () => {
    const ids = new Set(Array.from({ length: 1000 }, newRequestId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isSaneRequestId(id)).toBe(true);
  });
});
