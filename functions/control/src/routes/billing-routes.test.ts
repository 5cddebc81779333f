import { randomBytes } from "node:crypto";
import { OpenAPIHono } from "@hono/zod-openapi";
import { createDb, type DbHandle, migrateToLatest, newId, SecretSealer, withSystem } from "@maas/db";
import { toAppError } from "@maas/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ControlEnv } from "../control-env.js";
import type { ControlServices } from "../services.js";
import { registerBillingRoutes } from "./billing-routes.js";

// The billing routes on PGlite, with the principal set directly (authentication has its own suite).
let handle: DbHandle;
const tenantId = newId("tnt");
const secrets = SecretSealer.fromKey(randomBytes(32));
beforeAll(async () => {
  handle = createDb({});
  await migrateToLatest(handle.db);
  await withSystem(handle.db, async (trx) => {
    await trx.insertInto("tenants").values({ id: tenantId, slug: "routes", name: "r" }).execute();
    await trx.insertInto("quotas").values({ tenant_id: tenantId, monthly_budget_micros: 1000 }).execute();
    await trx
      .insertInto("usage_events")
      .values({
        source: "/t",
        event_id: "evt_1",
        tenant_id: tenantId,
        model_id: "mdl_1",
        version_id: "mver_1",
        deployment_id: "dep_1",
        request_id: "req_1",
        occurred_at: "2026-02-03T10:00:00Z",
        items: 1,
        compute_ms: 12,
        cost_micros: 170,
        device: "cpu",
        status: "ok",
        period: "2026-02",
      })
      .execute();
    await trx
      .insertInto("usage_hourly")
      .values({
        tenant_id: tenantId,
        model_id: "mdl_1",
        hour: "2026-02-03T10:00:00Z",
        requests: 1,
        items: 1,
        compute_ms: 12,
        cost_micros: 170,
      })
      .execute();
  });
}, 60_000);
afterAll(async () => handle?.close());

function app(role: "owner" | "viewer") {
  const api = new OpenAPIHono<ControlEnv>();
  api.onError((err, c) => {
    const e = toAppError(err);
    return c.json({ error: { code: e.code } }, e.status as 403);
  });
  api.use(async (c, next) => {
    c.set("requestId", "req_test");
    c.set("principal", { kind: "api_key", tenantId, role, keyId: "key_test", subject: "key_test" } as never);
    await next();
  });
  const services = {
    db: handle.db,
    clock: () => new Date("2026-02-10T00:00:00Z"),
    secrets,
  } as unknown as ControlServices;
  registerBillingRoutes(api, services);
  return api;
}

describe("billing routes", () => {
  it("usage by day and model, CSV, and spend against budget", async () => {
    const usage = await (await app("viewer").request("/v1/usage?period=2026-02")).json();
    expect(usage).toMatchObject({
      period: "2026-02",
      days: [{ date: "2026-02-03", modelId: "mdl_1", requests: 1, computeMs: 12, costMicros: 170 }],
      totals: { requests: 1, costMicros: 170, lateRequests: 0 },
    });
    const csv = await (await app("viewer").request("/v1/usage.csv?period=2026-02")).text();
    expect(csv).toBe("date,model_id,requests,compute_ms,cost_micros\r\n2026-02-03,mdl_1,1,12,170\r\n");
    const spend = await (await app("viewer").request("/v1/spend")).json();
    expect(spend).toEqual({
      period: "2026-02",
      spentMicros: 170,
      budgetMicros: 1000,
      remainingMicros: 830,
      percentUsed: 17,
    });
  });

  it("webhook secret is shown once and never listed; a viewer cannot create one", async () => {
    const res = await app("owner").request("/v1/webhooks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: "https://hooks.example/x" }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { webhook: { id: string }; secret: string };
    expect(created.secret).toMatch(/^whsec_/);
    // Stored sealed (SECRETS_KEY): no trace of the secret in the row, and it opens for this row only.
    const row = await withSystem(handle.db, (trx) =>
      trx
        .selectFrom("webhooks")
        .select("secret")
        .where("id", "=", created.webhook.id)
        .executeTakeFirstOrThrow(),
    );
    expect(row.secret).toMatch(/^sealed:v1:/);
    expect(row.secret).not.toContain(created.secret.slice("whsec_".length, 20));
    expect(secrets.open(row.secret, created.webhook.id)).toBe(created.secret);
    const list = await (await app("owner").request("/v1/webhooks")).text();
    expect(list).toContain(created.webhook.id);
    expect(list).not.toContain(created.secret);
    const denied = await app("viewer").request("/v1/webhooks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: "https://hooks.example/y" }),
    });
    expect(denied.status).toBe(403);
    expect((await app("owner").request(`/v1/webhooks/${created.webhook.id}/deliveries`)).status).toBe(200);
    expect(
      (await app("owner").request(`/v1/webhooks/${created.webhook.id}`, { method: "DELETE" })).status,
    ).toBe(200);
    expect((await app("owner").request("/v1/invoices/inv_nothere", {})).status).toBe(404);
  });
});
