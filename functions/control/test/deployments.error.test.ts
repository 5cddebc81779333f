import { withSystem } from "@maas/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, json, type Seeded } from "./harness.js";
import { type Resources, seedResources } from "./resources.js";

interface ErrorBody {
  error: { code: string; details?: { issues?: { path: string }[] } };
}

let h: Harness;
let t: Seeded;
let r: Resources;
beforeAll(async () => {
  h = await createHarness();
  t = await h.seedTenant();
  r = await seedResources(h, t);
}, 60_000);
afterAll(() => h.close());

async function refused(body: Record<string, unknown>, status: number, code: string): Promise<ErrorBody> {
  const before = await h.snapshot();
  const res = await h.request("POST", "/v1/deployments", { key: t.keys.developer, body });
  const out = await json<ErrorBody>(res);
  expect(res.status, JSON.stringify(out)).toBe(status);
  expect(out.error.code).toBe(code);
  expect(await h.snapshot()).toEqual(before);
  return out;
}

describe("deployment errors (nothing written on any)", () => {
  it("a version that is not ready is 409", async () => {
    await refused({ name: "a", model: r.modelId, version: 2 }, 409, "CONFLICT");
  });

  it("a variant the version lacks is 409", async () => {
    await refused({ name: "a", model: r.modelId, version: 1, variant: "int8" }, 409, "CONFLICT");
  });

  it("an unknown model or version is 404", async () => {
    await refused({ name: "a", model: "nope", version: 1 }, 404, "NOT_FOUND");
    await refused({ name: "a", model: r.modelId, version: 9 }, 404, "NOT_FOUND");
  });

  it("maxScale below minScale is a field-level 400 on maxScale", async () => {
    const out = await refused(
      { name: "a", model: r.modelId, version: 1, minScale: 3, maxScale: 2 },
      400,
      "VALIDATION_FAILED",
    );
    expect(out.error.details?.issues?.map((i) => i.path)).toContain("maxScale");
  });

  it("a name longer than 40 characters is a field-level 400", async () => {
    const out = await refused(
      { name: "x".repeat(41), model: r.modelId, version: 1 },
      400,
      "VALIDATION_FAILED",
    );
    expect(out.error.details?.issues?.map((i) => i.path)).toContain("name");
  });

  it("a name in use is 409, and free again once the deployment is deleted", async () => {
    const existing = await withSystem(h.db, (trx) =>
      trx.selectFrom("deployments").selectAll().where("id", "=", r.deploymentId).executeTakeFirstOrThrow(),
    );
    await refused({ name: existing.name, model: r.modelId, version: 1 }, 409, "CONFLICT");
    await withSystem(h.db, (trx) =>
      trx.updateTable("deployments").set({ status: "deleted" }).where("id", "=", r.deploymentId).execute(),
    );
    const res = await h.request("POST", "/v1/deployments", {
      key: t.keys.developer,
      body: { name: existing.name, model: r.modelId, version: 1 },
    });
    expect(res.status).toBe(202);
    expect((await h.request("GET", `/v1/deployments/${r.deploymentId}`, { key: t.keys.viewer })).status).toBe(
      200,
    );
    expect(
      (await h.request("DELETE", `/v1/deployments/${r.deploymentId}`, { key: t.keys.developer })).status,
    ).toBe(404);
  });
});
