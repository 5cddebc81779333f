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

describe("granting roles", () => {
  it("an admin cannot mint an owner key, nor revoke an owner's key (403, nothing written)", async () => {
    const before = await h.snapshot();
    const res = await h.request("POST", "/v1/keys", {
      key: t.keys.admin,
      body: { name: "up", role: "owner" },
    });
    expect(res.status).toBe(403);
    expect(await h.snapshot()).toEqual(before);
    const keys = await json<{ keys: { id: string; role: string }[] }>(
      await h.request("GET", "/v1/keys", { key: t.keys.admin }),
    );
    const ownerKey = keys.keys.find((k) => k.role === "owner");
    const revoke = await h.request("DELETE", `/v1/keys/${ownerKey?.id}`, { key: t.keys.admin });
    expect(revoke.status).toBe(403);
    expect(await h.snapshot()).toEqual(before);
  });

  it("an admin may mint keys at or below its own role", async () => {
    for (const role of ["admin", "developer", "viewer"]) {
      expect(
        (await h.request("POST", "/v1/keys", { key: t.keys.admin, body: { name: role, role } })).status,
      ).toBe(201);
    }
  });

  it("the same member twice is 409; the last owner cannot be removed", async () => {
    expect(
      (
        await h.request("POST", "/v1/members", {
          key: t.keys.owner,
          body: { subject: "carol", role: "owner" },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await h.request("POST", "/v1/members", {
          key: t.keys.owner,
          body: { subject: "carol", role: "viewer" },
        })
      ).status,
    ).toBe(409);
    const list = await json<{ members: { id: string; subject: string }[] }>(
      await h.request("GET", "/v1/members", { key: t.keys.owner }),
    );
    const carol = list.members.find((m) => m.subject === "carol");
    const res = await h.request("DELETE", `/v1/members/${carol?.id}`, { key: t.keys.owner });
    expect(res.status).toBe(409);
  });
});

describe("tenants", () => {
  it("a taken slug is 409 and writes nothing", async () => {
    expect(
      (await h.request("POST", "/v1/tenants", { key: operator, body: { slug: "dup", name: "One" } })).status,
    ).toBe(201);
    const before = await h.snapshot();
    const res = await h.request("POST", "/v1/tenants", { key: operator, body: { slug: "dup", name: "Two" } });
    expect(res.status).toBe(409);
    expect(await h.snapshot()).toEqual(before);
  });

  it("an unknown plan is a field-level 400", async () => {
    const res = await h.request("POST", "/v1/tenants", {
      key: operator,
      body: { slug: "p", name: "P", plan: "gold" },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { details: { issues: [{ path: "plan" }] } } });
  });

  it("an unknown tenant is 404", async () => {
    expect((await h.request("GET", "/v1/tenants/tnt_0000000000", { key: operator })).status).toBe(404);
  });

  it("an operator token reaches no tenant route (403)", async () => {
    expect((await h.request("GET", "/v1/models", { key: operator })).status).toBe(403);
  });
});
