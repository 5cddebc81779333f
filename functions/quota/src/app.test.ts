import type { Principal, Verifier } from "@maas/auth";
import { DEFAULT_QUOTAS, type Decision, type Lease, type Quotas } from "@maas/quota";
import { captureLogger } from "@maas/runtime/testing";
import { describe, expect, it } from "vitest";
import { createQuota } from "./app.js";
import type { QuotaServices } from "./services.js";

const A = "tnt_aaaa";
const B = "tnt_bbbb";
const principals: Record<string, Principal> = {
  "admin-a": {
    kind: "api_key",
    tenantId: A,
    role: "admin",
    keyId: "key_1",
    subject: "key_1",
    operator: false,
  },
  operator: { kind: "jwt", tenantId: null, role: null, subject: "ops", operator: true },
};
const verifier: Verifier = {
  async verify(c) {
    const principal = principals[c];
    return principal
      ? { ok: true, principal }
      : { ok: false, code: "UNAUTHENTICATED", reason: "unknown_key", message: "no" };
  },
};

function setup(reject?: Decision) {
  const released: Lease[] = [];
  const stored = new Map<string, Quotas>();
  const services: QuotaServices = {
    verifier,
    decider: {
      async decide({ tenantId }) {
        return (
          reject ?? {
            allowed: true,
            lease: { tenantId, id: "l1", expiresAt: 1_000, source: "redis" },
            degraded: false,
            headers: { RateLimit: '"qps";r=1;t=1' },
          }
        );
      },
      async release(lease) {
        released.push(lease);
      },
    },
    store: {
      async get(t) {
        return stored.get(t) ?? DEFAULT_QUOTAS;
      },
      async set(t, patch) {
        const q = { ...(stored.get(t) ?? DEFAULT_QUOTAS), ...patch };
        stored.set(t, q);
        return q;
      },
    },
    holdings: { holdings: async () => ({ models: 2, storageUsedBytes: 10n, storageReservedBytes: 5n }) },
    live: { currentQps: async () => 3, inFlight: async () => 1, monthToDateMicros: async () => 500 },
  };
  const fn = createQuota(services, { logger: captureLogger().logger });
  const call = (path: string, token: string, init: RequestInit = {}) =>
    fn.app.request(path, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    });
  return { fn, call, released };
}

describe("quota function", () => {
  it("decides for the caller's tenant and releases by the lease token", async () => {
    const { call, released } = setup();
    const res = await call("/v1/decisions", "admin-a", {
      method: "POST",
      body: JSON.stringify({ estimatedCostMicros: 100 }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit")).toBe('"qps";r=1;t=1');
    const { decision } = (await res.json()) as { decision: { lease: string } };
    const del = await call(`/v1/decisions/${decision.lease}`, "admin-a", { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(released).toEqual([{ tenantId: A, id: "l1", expiresAt: 1_000, source: "redis" }]);
  });

  it("answers a rejection with the module's 402 and its body", async () => {
    const { call } = setup({
      allowed: false,
      limit: "budget",
      value: 1000,
      used: 1000,
      retryAfterSeconds: 60,
      headers: { "Retry-After": "60" },
      degraded: false,
    });
    const res = await call("/v1/decisions", "admin-a", {
      method: "POST",
      body: JSON.stringify({ estimatedCostMicros: 1 }),
    });
    expect(res.status).toBe(402);
    expect(res.headers.get("retry-after")).toBe("60");
    expect(await res.json()).toMatchObject({
      error: { code: "BUDGET_EXHAUSTED", details: { limit: "budget", value: 1000 } },
    });
  });

  it("keeps tenants apart: another tenant's decisions, leases, quotas and usage are 404", async () => {
    const { call } = setup();
    const foreignLease = Buffer.from(
      JSON.stringify({ tenantId: B, id: "x", expiresAt: 1, source: "redis" }),
    ).toString("base64url");
    const responses = await Promise.all([
      call("/v1/decisions", "admin-a", {
        method: "POST",
        body: JSON.stringify({ tenantId: B, estimatedCostMicros: 1 }),
      }),
      call(`/v1/decisions/${foreignLease}`, "admin-a", { method: "DELETE" }),
      call(`/v1/tenants/${B}/quotas`, "admin-a"),
      call(`/v1/tenants/${B}/usage`, "admin-a"),
    ]);
    expect(responses.map((r) => r.status)).toEqual([404, 404, 404, 404]);
  });

  it("lets operators set quotas, tenant admins only read them, and shows the usage view", async () => {
    const { call } = setup();
    const forbidden = await call(`/v1/tenants/${A}/quotas`, "admin-a", {
      method: "PUT",
      body: JSON.stringify({ maxQps: 99 }),
    });
    expect(forbidden.status).toBe(403);
    const put = await call(`/v1/tenants/${A}/quotas`, "operator", {
      method: "PUT",
      body: JSON.stringify({ maxQps: 99 }),
    });
    expect(await put.json()).toMatchObject({ quotas: { maxQps: 99 } });
    expect(await (await call(`/v1/tenants/${A}/quotas`, "admin-a")).json()).toMatchObject({
      quotas: { maxQps: 99 },
    });
    const usage = await (await call(`/v1/tenants/${A}/usage`, "admin-a")).json();
    expect(usage).toMatchObject({
      usage: {
        qps: { current: 3, limit: 99 },
        inFlight: { current: 1 },
        spend: { monthToDateMicros: 500 },
        models: { current: 2 },
      },
    });
    const bad = await call(`/v1/tenants/${A}/quotas`, "operator", {
      method: "PUT",
      body: JSON.stringify({ maxQps: -1 }),
    });
    expect(bad.status).toBe(400);
  });

  it("answers 401 without credentials", async () => {
    const { fn } = setup();
    expect((await fn.app.request("/v1/decisions", { method: "POST" })).status).toBe(401);
  });
});
