import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientNodeApplier } from "./client-node-applier.js";
import { KubeApiError, refOf } from "./kube-applier.js";
import { kubeConfigFor } from "./kube-config.js";
import { renderInferenceService } from "./render-inference-service.js";
import { renderTenantNamespace } from "./render-tenant-namespace.js";
import { FAKE_FAIL_ANNOTATION, type FakeApiServer, startFakeApiServer } from "./testing/fake-api-server.js";

// The real @kubernetes/client-node client against the fake API server (real HTTP, every body
// validated against the real schemas, a simulated Knative controller).
let server: FakeApiServer;
let applier: ClientNodeApplier;
const dep = {
  id: "dep_abc123",
  tenantId: "tnt_acme1",
  tenantSlug: "acme",
  modelId: "mdl_resnet1",
  modelName: "resnet",
  versionId: "mver_1a",
  version: 1,
  name: "resnet",
  maxBatchSize: 8,
  modelUri: "s3://maas-models/k.onnx",
};

beforeAll(async () => {
  server = await startFakeApiServer({ readyDelayMs: 30 });
  applier = new ClientNodeApplier({ kubeConfig: server.kubeConfig });
});
afterAll(async () => {
  await server.close();
});

describe("ClientNodeApplier against the fake API server", () => {
  it("applies the tenant namespace objects with server-side apply", async () => {
    for (const o of renderTenantNamespace({ id: "tnt_acme1", slug: "acme" })) await applier.apply(o);
    const patches = server.requests.filter((r) => r.method === "PATCH");
    expect(patches).toHaveLength(6);
    expect(patches.every((p) => p.contentType === "application/apply-patch+yaml")).toBe(true);
    expect(await applier.get({ apiVersion: "v1", kind: "Namespace", name: "tenant-acme" })).toMatchObject({
      metadata: { name: "tenant-acme", labels: { "maas.dev/tenant": "tnt_acme1" } },
    });
  });

  it("applies a Service, watches it Ready and gets its URL; a re-apply is idempotent", async () => {
    const svc = renderInferenceService(dep, { image: "ghcr.io/maas/inference:1" });
    const stored = await applier.apply(svc);
    expect(stored.metadata?.generation).toBe(1);
    const result = await applier.watchReady(refOf(svc), 5000);
    expect(result).toMatchObject({ status: "ready", url: "http://resnet.tenant-acme.example.com" });
    const again = await applier.apply(svc);
    expect(again.metadata?.generation).toBe(1);
    expect(await applier.watchReady(refOf(svc), 5000)).toMatchObject({ status: "ready" });
  });

  it("reports a failed rollout with the reason", async () => {
    const svc = renderInferenceService({ ...dep, name: "broken" }, { image: "ghcr.io/maas/inference:1" });
    svc.metadata!.annotations![FAKE_FAIL_ANNOTATION] = "ContainerMissing: image not found";
    await applier.apply(svc);
    expect(await applier.watchReady(refOf(svc), 5000)).toMatchObject({
      status: "failed",
      reason: "ContainerMissing",
      message: "image not found",
    });
  });

  it("times out when the Service never becomes Ready", async () => {
    const slow = await startFakeApiServer({ readyDelayMs: 10_000 });
    try {
      const a = new ClientNodeApplier({ kubeConfig: slow.kubeConfig });
      for (const o of renderTenantNamespace({ id: "tnt_acme1", slug: "acme" })) await a.apply(o);
      const svc = renderInferenceService(dep, { image: "x:1" });
      await a.apply(svc);
      expect(await a.watchReady(refOf(svc), 200)).toMatchObject({ status: "timeout" });
    } finally {
      await slow.close();
    }
  });

  it("deletes, and a second delete says it was already gone", async () => {
    const ref = {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      namespace: "tenant-acme",
      name: "resnet",
    };
    expect(await applier.delete(ref)).toBe(true);
    expect(await applier.get(ref)).toBeUndefined();
    expect(await applier.delete(ref)).toBe(false);
  });

  it("an invalid body is a 422 the caller must not retry", async () => {
    const svc = JSON.parse(JSON.stringify(renderInferenceService(dep, { image: "x:1" })));
    svc.spec.template.spec.containerConcurrency = "many";
    const err = await applier.apply(svc).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: 422, reason: "Invalid", retriable: false });
  });

  it("a Service in a namespace that does not exist is a 404", async () => {
    const svc = renderInferenceService({ ...dep, tenantSlug: "nobody" }, { image: "x:1" });
    await expect(applier.apply(svc)).rejects.toMatchObject({ status: 404, retriable: false });
  });

  it("an unreachable API server is a retriable error", async () => {
    const gone = await startFakeApiServer();
    const url = gone.url;
    await gone.close();
    const a = new ClientNodeApplier({ kubeConfig: kubeConfigFor(url) });
    await expect(a.apply(renderInferenceService(dep, { image: "x:1" }))).rejects.toMatchObject({
      retriable: true,
      reason: "Unreachable",
    });
  });
});
