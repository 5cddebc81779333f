import { defaultInfra } from "@maas/config";
import {
  createDb,
  createFreshDatabase,
  type DbHandle,
  type FreshDatabase,
  migrateToLatest,
  newId,
  withSystem,
} from "@maas/db";
import { createEvent, encodeHttpBinary, events, type MaasEvent } from "@maas/events";
import { createDeployer } from "@maas/fn-deployer";
import { ClientNodeApplier, createManifestValidator, kubeConfigFor } from "@maas/k8s";
import { FAKE_FAIL_ANNOTATION, type FakeApiServer, startFakeApiServer } from "@maas/k8s/testing";
import type { MaasFunction } from "@maas/runtime";
import { captureLogger } from "@maas/runtime/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The deployer against REAL Postgres (a fresh database) and the fake Kubernetes API server (real
// HTTP, the real @kubernetes/client-node client, every body validated against the schemas).
const databaseUrl =
  process.env.DATABASE_URL ??
  `postgres://${defaultInfra.postgres.user}:${defaultInfra.postgres.password}@${defaultInfra.postgres.host}:${defaultInfra.postgres.port}/${defaultInfra.postgres.database}`;

let fresh: FreshDatabase;
let handle: DbHandle;
let kube: FakeApiServer;
const validator = createManifestValidator();
const tenantId = "tnt_deployer1";

function deployer(overrides: { url?: string; image?: string; readyTimeoutMs?: number } = {}): MaasFunction {
  const { logger } = captureLogger();
  return createDeployer(
    { logger },
    {
      db: handle.db,
      applier: new ClientNodeApplier({ kubeConfig: kubeConfigFor(overrides.url ?? kube.url) }),
      validator,
      render: { image: overrides.image ?? "ghcr.io/maas/inference:test" },
      modelUriBase: "s3://maas-models/",
      readyTimeoutMs: overrides.readyTimeoutMs ?? 5000,
    },
  );
}

function post(fn: MaasFunction, event: MaasEvent) {
  const m = encodeHttpBinary(event);
  return fn.app.request("/", { method: "POST", headers: m.headers, body: m.body });
}

async function seedDeployment(name: string, extra: { min_scale?: number; device?: "cpu" | "gpu" } = {}) {
  const modelId = newId("mdl");
  const versionId = newId("mver");
  const id = newId("dep");
  await withSystem(handle.db, async (trx) => {
    await trx
      .insertInto("models")
      .values({ id: modelId, tenant_id: tenantId, name: `m-${name}` })
      .execute();
    await trx
      .insertInto("model_versions")
      .values({
        id: versionId,
        tenant_id: tenantId,
        model_id: modelId,
        version: 1,
        status: "ready",
        size_bytes: 1000n,
        sha256: "a".repeat(64),
        object_key: `tenants/${tenantId}/models/${modelId}/${versionId}/fp32.onnx`,
      })
      .execute();
    await trx
      .insertInto("deployments")
      .values({
        id,
        tenant_id: tenantId,
        model_id: modelId,
        version_id: versionId,
        name,
        max_scale: 2,
        max_batch_size: 8,
        ...extra,
      })
      .execute();
  });
  const requested = createEvent(events.deploymentRequested, {
    source: "/tests",
    data: {
      tenantId,
      deploymentId: id,
      modelId,
      versionId,
      variant: "fp32",
      device: extra.device ?? "cpu",
      minScale: extra.min_scale ?? 0,
      maxScale: 2,
      targetConcurrency: 8,
    },
  });
  return { id, requested };
}

const row = (id: string) =>
  withSystem(handle.db, (trx) =>
    trx.selectFrom("deployments").selectAll().where("id", "=", id).executeTakeFirstOrThrow(),
  );
const outboxFor = (id: string) =>
  withSystem(handle.db, (trx) => trx.selectFrom("outbox").select(["event"]).execute()).then((rows) =>
    rows
      .map((r) => r.event as { type: string; data: { deploymentId: string; reason?: string; url?: string } })
      .filter((e) => e.data.deploymentId === id),
  );

beforeAll(async () => {
  fresh = await createFreshDatabase(databaseUrl, { prefix: "maas_deployer_test" });
  handle = createDb({ url: fresh.url });
  await migrateToLatest(handle.db);
  await withSystem(handle.db, (trx) =>
    trx.insertInto("tenants").values({ id: tenantId, slug: "deployer-acme", name: "Acme" }).execute(),
  );
  kube = await startFakeApiServer({ readyDelayMs: 50 });
});

afterAll(async () => {
  await kube?.close();
  await handle?.close();
  await fresh?.drop();
});

describe("deployer (real Postgres, fake API server)", () => {
  it("tenant.created applies the namespace, quota, limits and network policies", async () => {
    const ev = createEvent(events.tenantCreated, {
      source: "/tests",
      data: { tenantId, slug: "deployer-acme", name: "Acme", plan: "free" },
    });
    expect((await post(deployer(), ev)).status).toBe(202);
    const kinds = kube.store
      .list((o) => o.metadata?.labels?.["maas.dev/tenant"] === tenantId)
      .map((o) => o.kind);
    expect(kinds.sort()).toEqual([
      "LimitRange",
      "Namespace",
      "NetworkPolicy",
      "NetworkPolicy",
      "NetworkPolicy",
      "ResourceQuota",
    ]);
    // A redelivery is harmless.
    expect((await post(deployer(), ev)).status).toBe(202);
  });

  it.each([
    ["cpu-zero", {}],
    ["cpu-warm", { min_scale: 1 }],
    ["gpu-zero", { device: "gpu" as const }],
  ])(
    "deployment.requested (%s) → Service applied, row ready with URL, deployment.ready in the outbox",
    async (name, extra) => {
      const { id, requested } = await seedDeployment(name, extra);
      expect((await post(deployer(), requested)).status).toBe(202);
      const r = await row(id);
      expect(r).toMatchObject({ status: "ready", url: `http://${name}.tenant-deployer-acme.example.com` });
      const svc = kube.store.get({
        apiVersion: "serving.knative.dev/v1",
        kind: "Service",
        namespace: "tenant-deployer-acme",
        name,
      });
      expect(svc?.metadata?.labels?.["maas.dev/deployment"]).toBe(id);
      expect(await validator.validate(svc as unknown as Record<string, unknown>)).toEqual([]);
      const emitted = await outboxFor(id);
      expect(emitted.map((e) => e.type)).toEqual([events.deploymentReady.type]);
      expect(emitted[0]!.data.url).toBe(r.url);

      // Redelivered: applied again (idempotent), no second event.
      expect((await post(deployer(), requested)).status).toBe(202);
      expect(await outboxFor(id)).toHaveLength(1);
    },
  );

  it("a failed rollout → row failed with the reason, deployment.failed in the outbox", async () => {
    const { id, requested } = await seedDeployment("failing");
    expect((await post(deployer({ image: "ghcr.io/maas/will-fail:1" }), requested)).status).toBe(202);
    const r = await row(id);
    expect(r.status).toBe("failed");
    expect(r.failure_reason).toMatch(/^REVISION_FAILED: /);
    const emitted = await outboxFor(id);
    expect(emitted.map((e) => [e.type, e.data.reason])).toEqual([
      [events.deploymentFailed.type, "REVISION_FAILED"],
    ]);
    expect(FAKE_FAIL_ANNOTATION).toBeTruthy();
  });

  it("a render failure (bad image quantity) → deployment.failed with RENDER_FAILED, not retried", async () => {
    const { id, requested } = await seedDeployment("bad-render");
    const { logger } = captureLogger();
    const fn = createDeployer(
      { logger },
      {
        db: handle.db,
        applier: new ClientNodeApplier({ kubeConfig: kube.kubeConfig }),
        validator,
        render: { image: "x:1", cpu: { request: "lots", limit: "2" } },
        modelUriBase: "s3://maas-models/",
        readyTimeoutMs: 5000,
      },
    );
    expect((await post(fn, requested)).status).toBe(202);
    expect(await row(id)).toMatchObject({ status: "failed" });
    expect((await outboxFor(id)).map((e) => e.data.reason)).toEqual(["RENDER_FAILED"]);
  });

  it("an unreachable API server is retried (5xx) and changes nothing", async () => {
    const { id, requested } = await seedDeployment("unreachable");
    const dead = await startFakeApiServer();
    await dead.close();
    const res = await post(deployer({ url: dead.url }), requested);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(await row(id)).toMatchObject({ status: "pending" });
    expect(await outboxFor(id)).toEqual([]);
  });

  it("a deployment that does not exist is not retried (422)", async () => {
    const ev = createEvent(events.deploymentRequested, {
      source: "/tests",
      data: {
        tenantId,
        deploymentId: "dep_nothere",
        modelId: "mdl_x",
        versionId: "mver_x",
        variant: "fp32",
        device: "cpu",
        minScale: 0,
        maxScale: 1,
        targetConcurrency: 1,
      },
    });
    expect((await post(deployer(), ev)).status).toBe(422);
  });

  it("deployment.deleted deletes the Service and marks the row deleted; a redelivery is fine", async () => {
    const { id, requested } = await seedDeployment("to-delete");
    expect((await post(deployer(), requested)).status).toBe(202);
    const ref = {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      namespace: "tenant-deployer-acme",
      name: "to-delete",
    };
    expect(kube.store.get(ref)).toBeDefined();
    const deleted = createEvent(events.deploymentDeleted, {
      source: "/tests",
      data: { tenantId, deploymentId: id },
    });
    expect((await post(deployer(), deleted)).status).toBe(202);
    expect(kube.store.get(ref)).toBeUndefined();
    expect(await row(id)).toMatchObject({ status: "deleted" });
    expect((await post(deployer(), deleted)).status).toBe(202);
  });
});
