import { withSystem } from "@maas/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, json, type Seeded } from "./harness.js";
import { type Resources, seedResources } from "./resources.js";

interface DeploymentBody {
  deployment: { id: string; status: string; name: string };
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

async function outboxOf(type: string) {
  const rows = await withSystem(h.db, (trx) =>
    trx.selectFrom("outbox").selectAll().where("tenant_id", "=", t.tenantId).execute(),
  );
  return rows
    .map((o) => o.event as { type: string; data: Record<string, unknown> })
    .filter((e) => e.type === type);
}

describe("deployments", () => {
  let id: string;

  it("creates a deployment (202 pending) and emits deployment.requested through the outbox", async () => {
    const res = await h.request("POST", "/v1/deployments", {
      key: t.keys.developer,
      body: {
        name: "web",
        model: r.modelName,
        version: 1,
        variant: "fp16",
        device: "gpu",
        minScale: 1,
        maxScale: 3,
        maxBatchSize: 8,
      },
    });
    expect(res.status).toBe(202);
    const body = await json<DeploymentBody>(res);
    expect(body.deployment).toMatchObject({
      name: "web",
      status: "pending",
      modelId: r.modelId,
      versionId: r.versionId,
      variant: "fp16",
      device: "gpu",
      minScale: 1,
      maxScale: 3,
      maxBatchSize: 8,
      targetConcurrency: 8,
      url: null,
    });
    id = body.deployment.id;
    expect(await outboxOf("io.maas.deployment.requested.v1")).toEqual([
      expect.objectContaining({
        data: {
          tenantId: t.tenantId,
          deploymentId: id,
          modelId: r.modelId,
          versionId: r.versionId,
          variant: "fp16",
          device: "gpu",
          minScale: 1,
          maxScale: 3,
          targetConcurrency: 8,
        },
      }),
    ]);
  });

  it("defaults to fp32 on cpu, scaling to zero", async () => {
    const res = await h.request("POST", "/v1/deployments", {
      key: t.keys.developer,
      body: { name: "cheap", model: r.modelId, version: 1 },
    });
    expect(await res.json()).toMatchObject({
      deployment: { variant: "fp32", device: "cpu", minScale: 0, maxScale: 1, maxBatchSize: 1 },
    });
  });

  it("lists and gets deployments", async () => {
    const list = await json<{ deployments: { id: string }[] }>(
      await h.request("GET", "/v1/deployments", { key: t.keys.viewer }),
    );
    expect(list.deployments.map((d) => d.id)).toContain(id);
    const one = await h.request("GET", `/v1/deployments/${id}`, { key: t.keys.viewer });
    expect(await one.json()).toMatchObject({ deployment: { id, name: "web" } });
  });

  it("deletes: status deleting and deployment.deleted through the outbox, once even when repeated", async () => {
    const res = await h.request("DELETE", `/v1/deployments/${id}`, { key: t.keys.developer });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ deployment: { id, status: "deleting" } });
    const again = await h.request("DELETE", `/v1/deployments/${id}`, { key: t.keys.developer });
    expect(again.status).toBe(202);
    const deleted = await outboxOf("io.maas.deployment.deleted.v1");
    expect(deleted.filter((e) => e.data.deploymentId === id)).toHaveLength(1);
    const audit = await json<{ entries: { action: string; target: string }[] }>(
      await h.request("GET", "/v1/audit?action=deployment.delete", { key: t.keys.admin }),
    );
    expect(audit.entries.filter((e) => e.target === id)).toHaveLength(1);
  });
});
