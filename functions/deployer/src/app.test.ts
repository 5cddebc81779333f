import { createDb, type DbHandle, migrateToLatest } from "@maas/db";
import { createEvent, events } from "@maas/events";
import { ClientNodeApplier, createManifestValidator } from "@maas/k8s";
import { type FakeApiServer, startFakeApiServer } from "@maas/k8s/testing";
import { captureLogger, itBehavesLikeAFunction, postEvent as post } from "@maas/runtime/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeployer } from "./app.js";

// Embedded Postgres (PGlite) and the fake API server: no running service needed. The full flows
// against real Postgres are in tests/deployer.
let handle: DbHandle;
let kube: FakeApiServer;

beforeAll(async () => {
  handle = createDb({});
  await migrateToLatest(handle.db);
  kube = await startFakeApiServer();
}, 60_000); // PGlite's start is slow on a loaded machine
afterAll(async () => {
  await kube.close();
  await handle.close();
});

function setup() {
  const { logger, lines } = captureLogger();
  const fn = createDeployer(
    { logger },
    {
      db: handle.db,
      applier: new ClientNodeApplier({ kubeConfig: kube.kubeConfig }),
      validator: createManifestValidator(),
      render: { image: "ghcr.io/maas/inference:test" },
      modelUriBase: "s3://maas-models/",
      readyTimeoutMs: 2000,
    },
  );
  return { fn, lines };
}

describe("deployer", () => {
  itBehavesLikeAFunction("deployer", () => setup().fn);

  it("tenant.created applies the tenant namespace objects", async () => {
    const { fn, lines } = setup();
    const event = createEvent(events.tenantCreated, {
      source: "/test",
      data: { tenantId: "tnt_acme", slug: "acme", name: "Acme Inc", plan: "free" },
    });
    expect((await post(fn, event)).status).toBe(202);
    expect(kube.store.get({ apiVersion: "v1", kind: "Namespace", name: "tenant-acme" })).toBeDefined();
    expect(
      kube.store.list((o) => o.kind === "NetworkPolicy" && o.metadata?.namespace === "tenant-acme"),
    ).toHaveLength(3);
    expect(lines.find((l) => l.msg === "tenant namespace applied")).toMatchObject({ eventId: event.id });
  });

  it("deployment.requested for a deployment that does not exist is a 422 (not retried)", async () => {
    const { fn } = setup();
    const event = createEvent(events.deploymentRequested, {
      source: "/test",
      data: {
        tenantId: "tnt_acme",
        deploymentId: "dep_1",
        modelId: "mdl_resnet",
        versionId: "mver_1",
        variant: "fp32",
        device: "cpu",
        minScale: 0,
        maxScale: 2,
        targetConcurrency: 8,
      },
    });
    expect((await post(fn, event)).status).toBe(422);
  });

  it("deployment.deleted for an unknown deployment is accepted (nothing to do)", async () => {
    const { fn } = setup();
    const event = createEvent(events.deploymentDeleted, {
      source: "/test",
      data: { tenantId: "tnt_acme", deploymentId: "dep_1" },
    });
    expect((await post(fn, event)).status).toBe(202);
  });

  it("answers an event type it does not handle with 400, never 404", async () => {
    const { fn } = setup();
    const res = await post(
      fn,
      createEvent(events.invoiceIssued, {
        source: "/test",
        data: {
          tenantId: "tnt_acme",
          invoiceId: "inv_1",
          periodStart: "2026-01-01T00:00:00.000Z",
          periodEnd: "2026-02-01T00:00:00.000Z",
          currency: "EUR",
          totalMicros: 0,
          lines: [],
        },
      }),
    );
    expect(res.status).toBe(400);
  });
});
