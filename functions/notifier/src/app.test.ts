import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createDb, type DbHandle, migrateToLatest, newId, SecretSealer, withSystem } from "@maas/db";
import { createEvent, events } from "@maas/events";
import { captureLogger, itBehavesLikeAFunction, postEvent as post } from "@maas/runtime/testing";
import { Registry } from "prom-client";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNotifier } from "./app.js";
import { newWebhookSecret } from "./webhooks/signature.js";
import { WebhookDispatcher } from "./webhooks/webhook-dispatcher.js";
import { createWebhookMetrics } from "./webhooks/webhook-metrics.js";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let handle: DbHandle;
let server: Server;
let url: string;
const received: Received[] = [];
// The receiver answers this status (500 = fails on purpose).
let answer = 200;

beforeAll(async () => {
  handle = createDb({});
  await migrateToLatest(handle.db);
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.statusCode = answer;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}, 60_000);
afterAll(async () => {
  server?.close();
  await handle?.close();
});

async function tenantWithWebhook(eventTypes: string[] = [], sealer?: SecretSealer) {
  const tenantId = newId("tnt");
  const plain = newWebhookSecret();
  const webhookId = newId("whk");
  // As control stores it: sealed for this row when a key is configured.
  const secret = sealer === undefined ? plain : sealer.seal(plain, webhookId);
  await withSystem(handle.db, async (trx) => {
    await trx
      .insertInto("tenants")
      .values({ id: tenantId, slug: `n-${tenantId.slice(-10)}`, name: "n" })
      .execute();
    await trx
      .insertInto("webhooks")
      .values({ id: webhookId, tenant_id: tenantId, url, secret, event_types: JSON.stringify(eventTypes) })
      .execute();
  });
  return { tenantId, secret: plain, webhookId };
}

const threshold = (tenantId: string) =>
  createEvent(events.quotaThresholdCrossed, {
    source: "/functions/metering",
    data: {
      tenantId,
      quota: "budget",
      thresholdPercent: 80,
      used: 80,
      limit: 100,
      unit: "micros",
      period: "2026-02",
    },
  });

describe("notifier", () => {
  itBehavesLikeAFunction("notifier", () =>
    createNotifier({ logger: captureLogger().logger, dispatcher: new WebhookDispatcher({ db: handle.db }) }),
  );

  it("delivers a signed webhook that the standardwebhooks reference library verifies, once per event", async () => {
    answer = 200;
    received.length = 0;
    const { tenantId, secret, webhookId } = await tenantWithWebhook();
    const { logger, lines } = captureLogger();
    const registry = new Registry();
    const fn = createNotifier({
      logger,
      registry,
      dispatcher: new WebhookDispatcher({ db: handle.db, metrics: createWebhookMetrics(registry) }),
    });
    const event = threshold(tenantId);
    expect((await post(fn, event)).status).toBe(202);
    expect((await post(fn, event)).status).toBe(202); // redelivered by the broker: nothing new
    expect(received).toHaveLength(1);
    expect(lines.filter((l) => l.msg === "quota.threshold.crossed received").map((l) => l.enqueued)).toEqual([
      1, 0,
    ]);
    const got = received[0] as Received;
    const verified = new Webhook(secret).verify(got.body, {
      "webhook-id": String(got.headers["webhook-id"]),
      "webhook-timestamp": String(got.headers["webhook-timestamp"]),
      "webhook-signature": String(got.headers["webhook-signature"]),
    });
    expect(verified).toMatchObject({
      type: events.quotaThresholdCrossed.type,
      data: { tenantId, thresholdPercent: 80 },
    });
    expect(got.headers["webhook-id"]).toBe(event.id);
    // A tampered body or another secret fails verification.
    expect(() =>
      new Webhook(secret).verify(`${got.body} `, {
        "webhook-id": String(got.headers["webhook-id"]),
        "webhook-timestamp": String(got.headers["webhook-timestamp"]),
        "webhook-signature": String(got.headers["webhook-signature"]),
      }),
    ).toThrow();
    const log = await withSystem(handle.db, (trx) =>
      trx.selectFrom("webhook_deliveries").selectAll().where("webhook_id", "=", webhookId).execute(),
    );
    expect(log).toMatchObject([{ status: "delivered", attempts: 1, last_status_code: 200 }]);
    // The function's own /metrics serves the dispatcher's counter: one attempt, delivered.
    const metrics = await (await fn.app.request("/metrics")).text();
    expect(metrics).toContain('webhook_deliveries_total{outcome="delivered"} 1');
    expect(metrics).not.toContain('webhook_deliveries_total{outcome="retry"}');
  });

  it("signs with a secret stored sealed (SECRETS_KEY), and fails the attempt, not the loop, without the key", async () => {
    answer = 200;
    received.length = 0;
    const sealer = SecretSealer.fromKey(randomBytes(32));
    const { tenantId, secret } = await tenantWithWebhook([], sealer);
    const withKey = new WebhookDispatcher({ db: handle.db, secrets: sealer });
    expect(await withKey.enqueue(threshold(tenantId))).toBe(1);
    expect(await withKey.runDue()).toMatchObject({ attempted: 1, delivered: 1 });
    const got = received[0] as Received;
    const headers = {
      "webhook-id": String(got.headers["webhook-id"]),
      "webhook-timestamp": String(got.headers["webhook-timestamp"]),
      "webhook-signature": String(got.headers["webhook-signature"]),
    };
    expect(new Webhook(secret).verify(got.body, headers)).toMatchObject({ data: { tenantId } });

    // A notifier without the key cannot sign: nothing is sent, the attempt is recorded and retried.
    received.length = 0;
    const other = await tenantWithWebhook([], sealer);
    const withoutKey = new WebhookDispatcher({ db: handle.db });
    await withoutKey.enqueue(threshold(other.tenantId));
    expect(await withoutKey.runDue()).toMatchObject({ attempted: 1, retrying: 1 });
    expect(received).toHaveLength(0);
    const row = await withSystem(handle.db, (trx) =>
      trx
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("webhook_id", "=", other.webhookId)
        .executeTakeFirstOrThrow(),
    );
    expect(row.last_error).toContain("SECRETS_KEY");
  });

  it("skips webhooks that filter the event type out", async () => {
    received.length = 0;
    const { tenantId } = await tenantWithWebhook([events.invoiceIssued.type]);
    const dispatcher = new WebhookDispatcher({ db: handle.db });
    expect(await dispatcher.enqueue(threshold(tenantId))).toBe(0);
  });

  it("retries a failing receiver with exponential backoff, then dead-letters it", async () => {
    answer = 500;
    received.length = 0;
    const { tenantId, webhookId } = await tenantWithWebhook();
    let now = new Date("2026-02-10T00:00:00Z");
    const registry = new Registry();
    const dispatcher = new WebhookDispatcher({
      db: handle.db,
      maxAttempts: 4,
      baseDelayMs: 1_000,
      clock: () => now,
      metrics: createWebhookMetrics(registry),
    });
    await dispatcher.enqueue(threshold(tenantId));
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await dispatcher.runDue();
      expect(r.attempted).toBe(1);
      // Not due again before its backoff has passed.
      expect((await dispatcher.runDue()).attempted).toBe(0);
      const row = await withSystem(handle.db, (trx) =>
        trx
          .selectFrom("webhook_deliveries")
          .selectAll()
          .where("webhook_id", "=", webhookId)
          .executeTakeFirstOrThrow(),
      );
      if (row.next_attempt_at) {
        delays.push(row.next_attempt_at.getTime() - now.getTime());
        now = row.next_attempt_at;
      }
    }
    expect(delays).toEqual([1_000, 2_000, 4_000]);
    expect(received).toHaveLength(4);
    const row = await withSystem(handle.db, (trx) =>
      trx
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("webhook_id", "=", webhookId)
        .executeTakeFirstOrThrow(),
    );
    expect(row).toMatchObject({ status: "dead", attempts: 4, last_status_code: 500 });
    expect(row.dead_lettered_at).toEqual(now);
    now = new Date(now.getTime() + 86_400_000);
    expect((await dispatcher.runDue()).attempted).toBe(0);
    // Three retries and one dead letter, one count per attempt (what WebhookDeadLetters reads).
    const counted = (await registry.getSingleMetric("webhook_deliveries_total")?.get())?.values ?? [];
    expect(Object.fromEntries(counted.map((v) => [v.labels.outcome, v.value]))).toEqual({
      retry: 3,
      dead: 1,
    });
  });

  it("answers an event type it does not handle with 400, never 404", async () => {
    const { logger } = captureLogger();
    const fn = createNotifier({ logger, dispatcher: new WebhookDispatcher({ db: handle.db }) });
    const res = await post(
      fn,
      createEvent(events.deploymentDeleted, {
        source: "/test",
        data: { tenantId: "tnt_acme", deploymentId: "dep_1" },
      }),
    );
    expect(res.status).toBe(400);
  });
});
