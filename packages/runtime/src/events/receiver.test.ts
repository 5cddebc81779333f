import type { ErrorBody } from "@maas/errors";
import {
  createEvent,
  encodeHttpBinary,
  encodeHttpStructured,
  events,
  type MaasEvent,
  MemoryPublisher,
} from "@maas/events";
import { Hono } from "hono";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { accessLog } from "../middleware/access-log/index.js";
import { errorHandler } from "../middleware/error-handler/index.js";
import { requestId } from "../middleware/request-id/index.js";
import { captureLogger } from "../testing/capture-logger.js";
import type { AppEnv } from "../types.js";
import { NonRetriableError, RetryAfterError } from "./errors.js";
import { type EventContext, type EventHandler, eventReceiver } from "./receiver.js";

const tenantCreated = () =>
  createEvent(events.tenantCreated, {
    source: "/functions/control",
    data: { tenantId: "tnt_acme", slug: "acme", name: "Acme Inc", plan: "free" },
  });

const invoiceIssued = () =>
  createEvent(events.invoiceIssued, {
    source: "/functions/billing",
    data: {
      tenantId: "tnt_acme",
      invoiceId: "inv_1",
      periodStart: "2026-01-01T00:00:00.000Z",
      periodEnd: "2026-02-01T00:00:00.000Z",
      currency: "EUR",
      totalMicros: 0,
      lines: [],
    },
  });

function setup(handler: EventHandler = async () => {}) {
  const { logger, lines } = captureLogger();
  const registry = new Registry();
  const publisher = new MemoryPublisher();
  const seen: { event: MaasEvent; ctx: EventContext }[] = [];
  const app = new Hono<AppEnv>();
  app.use(requestId(), accessLog({ logger }));
  app.onError(errorHandler({ logger }));
  app.route(
    "/",
    eventReceiver({
      functionName: "deployer",
      registry,
      publisher,
      maxBodyBytes: 4096,
      handlers: {
        [events.tenantCreated.type]: async (event, ctx) => {
          seen.push({ event, ctx });
          await handler(event, ctx);
        },
      },
    }),
  );
  const send = (headers: Record<string, string>, body: string) =>
    app.request("/", { method: "POST", headers, body });
  const binary = (event: MaasEvent) => {
    const m = encodeHttpBinary(event);
    return send(m.headers, m.body);
  };
  const outcomes = async (): Promise<Record<string, string | number>[]> => {
    const metric = registry.getSingleMetric("cloudevents_received_total");
    if (!metric) throw new Error("cloudevents_received_total not registered");
    const values = (await metric.get()).values;
    return values.map((v) => ({ ...(v.labels as Record<string, string | number>), n: v.value }));
  };
  return { app, lines, publisher, seen, send, binary, outcomes };
}

const errorOf = async (res: Response) => ((await res.json()) as ErrorBody).error;

describe("eventReceiver", () => {
  it("accepts a binary-mode event: 202, empty body, handler gets the decoded event", async () => {
    const t = setup();
    const event = tenantCreated();
    const res = await t.binary(event);
    expect(res.status).toBe(202);
    expect(await res.text()).toBe("");
    expect(t.seen).toHaveLength(1);
    expect(t.seen[0]?.event).toMatchObject({ id: event.id, type: event.type, tenantid: "tnt_acme" });
    expect(t.seen[0]?.event.data).toEqual(event.data);
    expect(await t.outcomes()).toEqual([
      { function: "deployer", type: events.tenantCreated.type, outcome: "accepted", n: 1 },
    ]);
  });

  it("accepts a structured-mode event", async () => {
    const t = setup();
    const event = tenantCreated();
    const m = encodeHttpStructured(event);
    expect(m.headers["content-type"]).toContain("application/cloudevents+json");
    const res = await t.send(m.headers, m.body);
    expect(res.status).toBe(202);
    expect(t.seen[0]?.event.id).toBe(event.id);
  });

  it("gives handlers a logger bound to the request and event, the request id, and publish", async () => {
    const t = setup(async (event, ctx) => {
      ctx.logger.info("handling");
      await ctx.publish([event]);
    });
    const event = tenantCreated();
    const m = encodeHttpBinary(event);
    await t.send({ ...m.headers, "x-request-id": "req-ev" }, m.body);
    expect(t.seen[0]?.ctx.requestId).toBe("req-ev");
    expect(t.lines.find((l) => l.msg === "handling")).toMatchObject({
      requestId: "req-ev",
      eventId: event.id,
      eventType: event.type,
      tenantId: "tnt_acme",
    });
    expect(t.publisher.published.map((e) => e.id)).toEqual([event.id]);
  });

  it("answers a malformed request with 400 INVALID_EVENT", async () => {
    const t = setup();
    const res = await t.send({ "content-type": "application/json" }, '{"hello":"world"}');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("INVALID_EVENT");
    const bad = await t.send({ "content-type": "application/cloudevents+json" }, "{not json");
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe("INVALID_EVENT");
    expect(t.seen).toEqual([]);
  });

  it("answers data that fails the catalog schema with 400 INVALID_EVENT", async () => {
    const t = setup();
    const m = encodeHttpBinary(tenantCreated());
    const res = await t.send(m.headers, JSON.stringify({ tenantId: "tnt_acme", slug: "NOT A SLUG" }));
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("INVALID_EVENT");
    expect(t.seen).toEqual([]);
  });

  it("answers a type outside the catalog with 400 UNKNOWN_EVENT_TYPE, counted without its type", async () => {
    const t = setup();
    const m = encodeHttpBinary(tenantCreated());
    const res = await t.send({ ...m.headers, "ce-type": "com.example.anything" }, m.body);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("UNKNOWN_EVENT_TYPE");
    expect(await t.outcomes()).toEqual([
      { function: "deployer", type: "undecoded", outcome: "unknown_type", n: 1 },
    ]);
  });

  it("answers a catalog type this function does not handle with 400, never 404", async () => {
    const t = setup();
    const res = await t.binary(invoiceIssued());
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: "BAD_REQUEST",
      details: { type: events.invoiceIssued.type },
    });
    expect(await t.outcomes()).toEqual([
      { function: "deployer", type: events.invoiceIssued.type, outcome: "unhandled", n: 1 },
    ]);
  });

  it("maps NonRetriableError to 422, which the broker does not retry", async () => {
    const t = setup(async () => {
      throw new NonRetriableError("tenant was deleted");
    });
    const res = await t.binary(tenantCreated());
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({ code: "UNPROCESSABLE", message: "tenant was deleted" });
    expect(t.lines.some((l) => l.level === "error")).toBe(false);
    expect((await t.outcomes())[0]?.outcome).toBe("non_retriable");
  });

  it("maps RetryAfterError to 429 with Retry-After", async () => {
    const t = setup(async () => {
      throw new RetryAfterError("cluster busy", 30);
    });
    const res = await t.binary(tenantCreated());
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("30");
    expect((await t.outcomes())[0]?.outcome).toBe("retry_later");
  });

  it("maps any other handler failure to 500 so the broker retries, logged with the event id", async () => {
    const t = setup(async () => {
      throw new Error("k8s api: connection reset");
    });
    const event = tenantCreated();
    const res = await t.binary(event);
    expect(res.status).toBe(500);
    const err = await errorOf(res);
    expect(err.code).toBe("INTERNAL");
    expect(err.message).not.toContain("connection reset");
    const logged = t.lines.find((l) => l.err !== undefined);
    expect(logged).toMatchObject({ level: "error", eventId: event.id });
    expect(logged?.err?.message).toContain("connection reset");
    expect((await t.outcomes())[0]?.outcome).toBe("failed");
  });

  it("refuses an oversized body with 413", async () => {
    const t = setup();
    const m = encodeHttpBinary(tenantCreated());
    const res = await t.send(m.headers, "x".repeat(5000));
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("PAYLOAD_TOO_LARGE");
  });
});
