import { withSystem } from "@maas/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, json, type Seeded } from "./harness.js";

let h: Harness;
let t: Seeded;
let operator: string;
beforeAll(async () => {
  h = await createHarness();
  t = await h.seedTenant();
  operator = await h.operatorToken();
}, 60_000);
afterAll(() => h.close());

describe("tenants (operators)", () => {
  it("creates a tenant with plan quotas, its storage row, an owner, and tenant.created in the same transaction", async () => {
    const res = await h.request("POST", "/v1/tenants", {
      key: operator,
      body: { slug: "acme", name: "Acme Inc", plan: "pro", owner: "alice" },
    });
    expect(res.status).toBe(201);
    const body = await json<{ tenant: { id: string }; quotas: { maxModels: number } }>(res);
    expect(body).toMatchObject({
      tenant: { slug: "acme", name: "Acme Inc", plan: "pro", status: "active" },
      quotas: { maxModels: 100 },
    });
    const id = body.tenant.id;
    const rows = await withSystem(h.db, async (trx) => ({
      outbox: await trx.selectFrom("outbox").selectAll().where("tenant_id", "=", id).execute(),
      members: await trx.selectFrom("members").selectAll().where("tenant_id", "=", id).execute(),
      storage: await trx.selectFrom("tenant_storage").selectAll().where("tenant_id", "=", id).execute(),
      audit: await trx.selectFrom("audit_log").selectAll().where("tenant_id", "=", id).execute(),
    }));
    expect(rows.outbox.map((o) => o.event)).toEqual([
      expect.objectContaining({
        type: "io.maas.tenant.created.v1",
        data: { tenantId: id, slug: "acme", name: "Acme Inc", plan: "pro" },
      }),
    ]);
    expect(rows.members).toEqual([expect.objectContaining({ subject: "alice", role: "owner" })]);
    expect(rows.storage).toHaveLength(1);
    expect(rows.audit).toEqual([expect.objectContaining({ action: "tenant.create", actor: "jwt:op-1" })]);

    // The owner's JWT now works on tenant routes.
    const alice = await h.memberToken("alice", id);
    expect((await h.request("GET", "/v1/members", { key: alice })).status).toBe(200);

    const got = await h.request("GET", `/v1/tenants/${id}`, { key: operator });
    expect(await got.json()).toMatchObject({
      tenant: { id },
      quotas: { maxModels: 100 },
      storage: { usedBytes: 0, reservedBytes: 0 },
    });
  });

  it("suspends a tenant: its keys are refused from then on", async () => {
    const victim = await h.seedTenant();
    expect((await h.request("GET", "/v1/models", { key: victim.keys.viewer })).status).toBe(200);
    const res = await h.request("POST", `/v1/tenants/${victim.tenantId}/suspend`, {
      key: operator,
      body: { reason: "unpaid" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ tenant: { status: "suspended" } });
    expect((await h.request("GET", "/v1/models", { key: victim.keys.viewer })).status).toBe(401);
  });
});

describe("API keys", () => {
  it("shows the secret once, lists without secrets, records last use, and revokes", async () => {
    const res = await h.request("POST", "/v1/keys", {
      key: t.keys.admin,
      body: { name: "ci", role: "developer" },
    });
    expect(res.status).toBe(201);
    const created = await json<{ key: { id: string; prefix: string }; secret: string }>(res);
    expect(created.secret).toMatch(/^maas_[0-9a-z]{12}_/);
    expect(created.secret).toContain(created.key.prefix);

    // The new key works with its role.
    expect(
      (await h.request("POST", "/v1/models", { key: created.secret, body: { name: "by-ci" } })).status,
    ).toBe(201);

    const listRes = await h.request("GET", "/v1/keys", { key: t.keys.admin });
    const text = await listRes.text();
    expect(text).not.toContain(created.secret);
    expect(text).not.toContain("sha256:");
    const list = JSON.parse(text) as { keys: { id: string; role: string; revokedAt: string | null }[] };
    expect(list.keys.find((k) => k.id === created.key.id)).toMatchObject({
      role: "developer",
      revokedAt: null,
    });

    const revoked = await h.request("DELETE", `/v1/keys/${created.key.id}`, { key: t.keys.admin });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({
      key: { id: created.key.id, revokedAt: expect.any(String) },
    });
    expect((await h.request("GET", "/v1/models", { key: created.secret })).status).toBe(401);
  });

  it("lastUsedAt becomes visible once a key was used (tracked by the auth module)", async () => {
    await withSystem(h.db, (trx) =>
      trx
        .updateTable("api_keys")
        .set({ last_used_at: new Date("2026-01-02T03:04:05Z") })
        .where("tenant_id", "=", t.tenantId)
        .where("role", "=", "viewer")
        .execute(),
    );
    const list = await json<{ keys: { role: string; lastUsedAt: string | null }[] }>(
      await h.request("GET", "/v1/keys", { key: t.keys.admin }),
    );
    expect(list.keys.find((k) => k.role === "viewer")?.lastUsedAt).toBe("2026-01-02T03:04:05.000Z");
  });
});

describe("members", () => {
  it("adds, lists and removes members", async () => {
    const res = await h.request("POST", "/v1/members", {
      key: t.keys.owner,
      body: { subject: "bob", role: "developer" },
    });
    expect(res.status).toBe(201);
    const { member } = await json<{ member: { id: string } }>(res);
    const bob = await h.memberToken("bob", t.tenantId);
    expect((await h.request("POST", "/v1/models", { key: bob, body: { name: "by-bob" } })).status).toBe(201);
    const list = await json<{ members: { subject: string }[] }>(
      await h.request("GET", "/v1/members", { key: t.keys.admin }),
    );
    expect(list.members.map((m) => m.subject)).toContain("bob");
    expect((await h.request("DELETE", `/v1/members/${member.id}`, { key: t.keys.owner })).status).toBe(200);
    expect((await h.request("GET", "/v1/models", { key: bob })).status).toBe(403);
  });
});

describe("audit log", () => {
  it("pages newest first", async () => {
    const first = await json<{ entries: { id: string }[]; nextBefore: string | null }>(
      await h.request("GET", "/v1/audit?limit=2", { key: t.keys.admin }),
    );
    expect(first.entries).toHaveLength(2);
    expect(BigInt(first.entries[0]?.id ?? 0) > BigInt(first.entries[1]?.id ?? 0)).toBe(true);
    expect(first.nextBefore).toBe(first.entries[1]?.id);
    const second = await json<{ entries: { id: string }[] }>(
      await h.request("GET", `/v1/audit?limit=2&before=${first.nextBefore}`, { key: t.keys.admin }),
    );
    expect(BigInt(second.entries[0]?.id ?? 0) < BigInt(first.nextBefore ?? 0)).toBe(true);
  });
});
