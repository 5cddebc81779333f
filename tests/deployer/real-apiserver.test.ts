import https from "node:https";
import {
  ClientNodeApplier,
  type KubeObject,
  refOf,
  renderInferenceService,
  renderTenantNamespace,
} from "@maas/k8s";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  haveRealApiServer,
  knativeServiceCrd,
  type RealApiServer,
  startRealApiServer,
} from "./real-apiserver.js";

// The applier against a REAL kube-apiserver + etcd (built from the Go module proxy; see
// docs/runner.md). Skipped where the binaries are absent. No Knative controller runs: the test plays
// it by writing the Service's status subresource.
describe.skipIf(!haveRealApiServer)("ClientNodeApplier against a real kube-apiserver", () => {
  let server: RealApiServer;
  let applier: ClientNodeApplier;
  const dep = {
    id: "dep_real1",
    tenantId: "tnt_real1",
    tenantSlug: "real",
    modelId: "mdl_real1",
    modelName: "resnet",
    versionId: "mver_real1",
    version: 1,
    name: "resnet",
    maxBatchSize: 8,
    modelUri: "s3://maas-models/k.onnx",
  };
  const svcRef = {
    apiVersion: "serving.knative.dev/v1",
    kind: "Service",
    namespace: "tenant-real",
    name: "resnet",
  };

  function patchStatus(status: object): Promise<number> {
    const body = JSON.stringify({ status });
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${server.url}/apis/serving.knative.dev/v1/namespaces/tenant-real/services/resnet/status`,
        {
          method: "PATCH",
          rejectUnauthorized: false,
          headers: {
            authorization: `Bearer ${server.token}`,
            "content-type": "application/merge-patch+json",
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  beforeAll(async () => {
    server = await startRealApiServer();
    applier = new ClientNodeApplier({ kubeConfig: server.kubeConfig });
    await applier.apply(knativeServiceCrd() as unknown as KubeObject);
    // The CRD is served once Established.
    for (let i = 0; i < 100; i++) {
      const crd = (await applier.get({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        name: "services.serving.knative.dev",
      })) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
      if (crd?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("applies the tenant namespace objects with server-side apply, idempotently", async () => {
    for (const o of renderTenantNamespace({ id: "tnt_real1", slug: "real" })) await applier.apply(o);
    for (const o of renderTenantNamespace({ id: "tnt_real1", slug: "real" })) await applier.apply(o);
    const quota = (await applier.get({
      apiVersion: "v1",
      kind: "ResourceQuota",
      namespace: "tenant-real",
      name: "tenant-quota",
    })) as unknown as {
      spec: { hard: Record<string, string> };
      metadata: { managedFields: { manager: string; operation: string }[] };
    };
    expect(quota.spec.hard["count/services.serving.knative.dev"]).toBe("10");
    expect(quota.metadata.managedFields.map((f) => [f.manager, f.operation])).toContainEqual([
      "maas-deployer",
      "Apply",
    ]);
  });

  it("applies a rendered Service (CRD schema enforced by the server) and watches Ready", async () => {
    const svc = renderInferenceService(dep, { image: "ghcr.io/maas/inference:1" });
    const stored = await applier.apply(svc);
    expect(stored.metadata?.generation).toBe(1);
    expect((await applier.apply(svc)).metadata?.generation).toBe(1);
    const watching = applier.watchReady(refOf(svc), 10_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(
      await patchStatus({
        observedGeneration: 1,
        url: "http://resnet.tenant-real.example.com",
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: new Date().toISOString() }],
      }),
    ).toBe(200);
    expect(await watching).toMatchObject({ status: "ready", url: "http://resnet.tenant-real.example.com" });
  });

  it("reports Ready=False with its reason", async () => {
    expect(
      await patchStatus({
        observedGeneration: 1,
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "RevisionFailed",
            message: "boom",
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      }),
    ).toBe(200);
    expect(await applier.watchReady(svcRef, 5000)).toMatchObject({
      status: "failed",
      reason: "RevisionFailed",
      message: "boom",
    });
  });

  it("the real server rejects a body its schema forbids with 422 (not retriable)", async () => {
    const bad = JSON.parse(JSON.stringify(renderInferenceService(dep, { image: "x:1" })));
    bad.spec.template.spec.containers[0].resources.limits.cpu = "lots";
    await expect(applier.apply(bad)).rejects.toMatchObject({
      status: 422,
      reason: "Invalid",
      retriable: false,
    });
  });

  it("a wrongly typed field under server-side apply is a 500 on the real server: why the deployer validates first", async () => {
    // Found here: SSA fails building the typed patch and answers 500 (retriable by status), so only
    // validating before applying keeps such a render from being retried forever.
    const bad = JSON.parse(JSON.stringify(renderInferenceService(dep, { image: "x:1" })));
    bad.spec.template.spec.containerConcurrency = "many";
    await expect(applier.apply(bad)).rejects.toMatchObject({ status: 500 });
  });

  it("deletes; a second delete says it was already gone", async () => {
    expect(await applier.delete(svcRef)).toBe(true);
    // Custom resources without finalizers go at once.
    expect(await applier.get(svcRef)).toBeUndefined();
    expect(await applier.delete(svcRef)).toBe(false);
  });
});
