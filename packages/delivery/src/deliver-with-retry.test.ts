import { createEvent, decodeHttp, events, type MaasEvent } from "@maas/events";
import { afterEach, describe, expect, it } from "vitest";
import { deliverWithRetry } from "./deliver-with-retry.js";
import { parseDeliverySpec } from "./delivery-spec.js";
import { type FakeSubscriber, startFakeSubscriber } from "./testing/fake-subscriber.js";

const event: MaasEvent = createEvent(events.tenantCreated, {
  source: "/functions/control",
  data: { tenantId: "tnt_acme", slug: "acme", name: "Acme", plan: "free" },
});

const servers: FakeSubscriber[] = [];
async function subscriber(...args: Parameters<typeof startFakeSubscriber>) {
  const s = await startFakeSubscriber(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe("deliverWithRetry", () => {
  it("POSTs the event in binary mode once when the subscriber accepts it", async () => {
    const sub = await subscriber();
    const outcome = await deliverWithRetry(event, sub.url, parseDeliverySpec({ retry: 3 }));
    expect(outcome).toMatchObject({ result: "delivered", attempts: 1, status: 200 });
    expect(sub.received).toHaveLength(1);
    const got = sub.received[0]!;
    expect(got.headers["ce-id"]).toBe(event.id);
    expect(got.headers["ce-type"]).toBe("io.maas.tenant.created.v1");
    expect(got.headers["ce-tenantid"]).toBe("tnt_acme");
    expect(decodeHttp(got.headers, got.body).data).toEqual(event.data);
  });

  it("retries retriable failures with the policy's backoff, then succeeds", async () => {
    const sub = await subscriber([{ status: 503 }, { status: 404 }, { status: 500 }]);
    const { waits, sleep } = recordingSleep();
    const policy = parseDeliverySpec({ retry: 5, backoffPolicy: "exponential", backoffDelay: "PT0.1S" });
    const outcome = await deliverWithRetry(event, sub.url, policy, { sleep });
    expect(outcome).toMatchObject({ result: "delivered", attempts: 4 });
    expect(waits).toEqual([200, 400, 800]);
    expect(new Set(sub.received.map((r) => r.headers["ce-id"]))).toEqual(new Set([event.id]));
  });

  it("dead-letters after the last retry with Knative's error extensions", async () => {
    const sub = await subscriber([], { status: 500, body: "database down" });
    const dlq = await subscriber();
    const { waits, sleep } = recordingSleep();
    const policy = parseDeliverySpec({ retry: 2, backoffPolicy: "linear", backoffDelay: "PT1S" });
    const outcome = await deliverWithRetry(event, sub.url, policy, { sleep, deadLetter: dlq.url });
    expect(outcome).toMatchObject({
      result: "dead-lettered",
      attempts: 3,
      status: 500,
      deadLetterStatus: 200,
    });
    expect(waits).toEqual([1000, 2000]);
    expect(sub.received).toHaveLength(3);
    expect(dlq.received).toHaveLength(1);
    const dead = decodeHttp(dlq.received[0]!.headers, dlq.received[0]!.body);
    expect(dead.id).toBe(event.id);
    expect(dead.knativeerrorcode).toBe("500");
    expect(dead.knativeerrordest).toBe(sub.url);
    expect(Buffer.from(String(dead.knativeerrordata), "base64").toString()).toBe("database down");
  });

  it("does not retry a final status (400) and dead-letters at once", async () => {
    const sub = await subscriber([], { status: 400, body: "bad" });
    const dlq = await subscriber();
    const outcome = await deliverWithRetry(event, sub.url, parseDeliverySpec({ retry: 5 }), {
      sleep: async () => {},
      deadLetter: dlq.url,
    });
    expect(outcome).toMatchObject({ result: "dead-lettered", attempts: 1, status: 400 });
    expect(sub.received).toHaveLength(1);
  });

  it("reports failed when there is no dead-letter sink, or it is down too", async () => {
    const sub = await subscriber([], { status: 500 });
    const policy = parseDeliverySpec({ retry: 1, backoffDelay: "PT0S" });
    expect(await deliverWithRetry(event, sub.url, policy)).toMatchObject({ result: "failed", attempts: 2 });
    const downDlq = await subscriber([], { status: 503 });
    expect(await deliverWithRetry(event, sub.url, policy, { deadLetter: downDlq.url })).toMatchObject({
      result: "failed",
      deadLetterError: "dead-letter sink answered 503",
    });
  });

  it("retries network errors (nothing listening) and honours Retry-After on 429", async () => {
    const gone = await startFakeSubscriber();
    const deadUrl = gone.url;
    await gone.close();
    const { waits, sleep } = recordingSleep();
    const policy = parseDeliverySpec({ retry: 1, backoffPolicy: "linear", backoffDelay: "PT0.01S" });
    const outcome = await deliverWithRetry(event, deadUrl, policy, { sleep });
    expect(outcome).toMatchObject({ result: "failed", attempts: 2 });
    expect(outcome.result === "failed" && outcome.error).toMatch(/failed/);
    expect(waits).toEqual([10]);

    const limited = await subscriber([{ status: 429, headers: { "retry-after": "7" } }]);
    const r = recordingSleep();
    expect(await deliverWithRetry(event, limited.url, policy, { sleep: r.sleep })).toMatchObject({
      result: "delivered",
      attempts: 2,
    });
    expect(r.waits).toEqual([7000]);
    const capped = await subscriber([{ status: 429, headers: { "retry-after": "7" } }]);
    const c = recordingSleep();
    await deliverWithRetry(event, capped.url, { ...policy, retryAfterMaxMs: 2000 }, { sleep: c.sleep });
    expect(c.waits).toEqual([2000]);
  });

  it("returns a reply event the subscriber answers with", async () => {
    const reply = createEvent(events.deploymentFailed, {
      source: "/functions/deployer",
      data: {
        tenantId: "tnt_acme",
        deploymentId: "dep_1",
        reason: "NO_CAPACITY",
        message: "no GPU",
      },
    });
    const sub = await subscriber([
      {
        status: 200,
        headers: {
          "ce-id": reply.id,
          "ce-type": reply.type,
          "ce-source": reply.source,
          "ce-specversion": "1.0",
          "content-type": "application/json",
        },
        body: JSON.stringify(reply.data),
      },
    ]);
    const outcome = await deliverWithRetry(event, sub.url, parseDeliverySpec({}));
    expect(outcome.result === "delivered" && (outcome.reply?.id ?? outcome.replyError)).toBe(reply.id);
  });

  it("stops between attempts when aborted", async () => {
    const sub = await subscriber([], { status: 500 });
    const abort = new AbortController();
    const outcome = await deliverWithRetry(event, sub.url, parseDeliverySpec({ retry: 3 }), {
      signal: abort.signal,
      sleep: async () => abort.abort(),
    });
    expect(outcome).toEqual({ result: "aborted", attempts: 1 });
  });
});
