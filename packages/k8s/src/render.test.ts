import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { AUTOSCALING, GPU_RESOURCE, renderInferenceService } from "./render-inference-service.js";
import { renderTenantNamespace } from "./render-tenant-namespace.js";
import { validateManifest } from "./validate-manifest.js";

const base = {
  id: "dep_abc123",
  tenantId: "tnt_acme1",
  tenantSlug: "acme",
  modelId: "mdl_resnet1",
  modelName: "resnet",
  versionId: "mver_1a",
  version: 3,
  name: "resnet",
  maxBatchSize: 16,
  modelUri: "s3://maas-models/tenants/tnt_acme1/models/mdl_resnet1/mver_1a/fp32.onnx",
};
const options = { image: "ghcr.io/maas/inference:0.1.0" };
const plain = <T>(o: T) => JSON.parse(JSON.stringify(o)) as Record<string, never>;
type Svc = {
  metadata: { namespace: string; labels: Record<string, string> };
  spec: {
    template: {
      metadata: { annotations: Record<string, string> };
      spec: {
        containerConcurrency: number;
        enableServiceLinks: boolean;
        nodeSelector?: Record<string, string>;
        tolerations?: unknown[];
        containers: {
          env: { name: string; value: string }[];
          resources: { limits: Record<string, string> };
          readinessProbe: { httpGet: { path: string } };
          startupProbe: { periodSeconds: number; failureThreshold: number };
          livenessProbe: { httpGet: { path: string } };
        }[];
      };
    };
  };
};

describe("renderInferenceService", () => {
  it.each([
    ["cpu, scale to zero", { device: "cpu", minScale: 0, maxScale: 3 }],
    ["cpu, warm", { device: "cpu", minScale: 2, maxScale: 4 }],
    ["gpu, scale to zero", { device: "gpu", minScale: 0, maxScale: 1 }],
    ["gpu, warm", { device: "gpu", minScale: 1, maxScale: 2 }],
  ] as const)("%s validates against the Knative CRD schema", async (_name, variant) => {
    const svc = renderInferenceService({ ...base, ...variant }, options);
    expect(await validateManifest(plain(svc))).toEqual([]);
    const s = plain(svc) as unknown as Svc;
    const a = s.spec.template.metadata.annotations;
    expect(a[AUTOSCALING.class]).toBe("kpa.autoscaling.knative.dev");
    expect(a[AUTOSCALING.metric]).toBe("concurrency");
    expect(a[AUTOSCALING.minScale]).toBe(String(variant.minScale));
    expect(a[AUTOSCALING.maxScale]).toBe(String(variant.maxScale));
    expect(a[AUTOSCALING.initialScale]).toBe(String(Math.max(1, variant.minScale)));
    expect(a[AUTOSCALING.target]).toBe("16");
    expect(a[AUTOSCALING.retention]).toBe("1m");
    expect(s.metadata.namespace).toBe("tenant-acme");
    expect(s.metadata.labels).toMatchObject({
      "maas.dev/tenant": "tnt_acme1",
      "maas.dev/model": "mdl_resnet1",
      "maas.dev/deployment": "dep_abc123",
    });
    const spec = s.spec.template.spec;
    expect(spec.enableServiceLinks).toBe(false);
    expect(spec.containerConcurrency).toBe(32);
    const c = spec.containers[0]!;
    expect(c.readinessProbe.httpGet.path).toBe("/readyz");
    expect(c.livenessProbe.httpGet.path).toBe("/healthz");
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(600);
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      MODEL_URI: base.modelUri,
      MODEL_NAME: "resnet",
      MODEL_VERSION: "3",
      DEVICE: variant.device,
      MAX_BATCH_SIZE: "16",
      CPU_LIMIT: "2",
    });
    if (variant.device === "gpu") {
      expect(c.resources.limits[GPU_RESOURCE]).toBe("1");
      expect(spec.nodeSelector).toBeDefined();
      expect(spec.tolerations).toHaveLength(1);
    } else {
      expect(c.resources.limits[GPU_RESOURCE]).toBeUndefined();
      expect(spec.nodeSelector).toBeUndefined();
    }
  });

  it("takes the target from targetConcurrency when given, and the retention from options", () => {
    const s = plain(
      renderInferenceService({ ...base, targetConcurrency: 4 }, { ...options, scaleToZeroRetention: "30s" }),
    ) as unknown as Svc;
    expect(s.spec.template.metadata.annotations[AUTOSCALING.target]).toBe("4");
    expect(s.spec.template.metadata.annotations[AUTOSCALING.retention]).toBe("30s");
  });

  it("rejects bad input: a name that is no DNS label, min above max, a bad quantity", () => {
    expect(() => renderInferenceService({ ...base, name: "Res_Net" }, options)).toThrow();
    expect(() => renderInferenceService({ ...base, minScale: 3, maxScale: 2 }, options)).toThrow(/minScale/);
    expect(() =>
      renderInferenceService(base, { ...options, cpu: { request: "lots", limit: "2" } }),
    ).toThrow();
  });

  it("the validator catches what the schema forbids (a sabotaged render)", async () => {
    const s = plain(renderInferenceService(base, options)) as unknown as Svc & Record<string, unknown>;
    (s.spec.template.spec as unknown as Record<string, unknown>).containerConcurrency = "many";
    expect(await validateManifest(s)).not.toEqual([]);
  });
});

describe("renderTenantNamespace", () => {
  const objects = renderTenantNamespace({ id: "tnt_acme1", slug: "acme", quota: { gpus: 2 } });

  it("renders a Namespace, ResourceQuota, LimitRange and NetworkPolicies that all validate", async () => {
    expect(objects.map((o) => o.kind)).toEqual([
      "Namespace",
      "ResourceQuota",
      "LimitRange",
      "NetworkPolicy",
      "NetworkPolicy",
      "NetworkPolicy",
    ]);
    for (const o of objects) expect(await validateManifest(plain(o)), o.kind).toEqual([]);
    const quota = plain(objects[1]) as unknown as { spec: { hard: Record<string, string> } };
    expect(quota.spec.hard).toMatchObject({
      "requests.nvidia.com/gpu": "2",
      "count/services.serving.knative.dev": "10",
      "requests.cpu": "8",
      "requests.memory": "16Gi",
    });
    expect(
      objects.every(
        (o) => o.metadata?.name && (o.kind === "Namespace" || o.metadata.namespace === "tenant-acme"),
      ),
    ).toBe(true);
  });

  it("denies ingress by default and admits only Knative, its ingress and the gateway", () => {
    const policies = objects.filter((o) => o.kind === "NetworkPolicy").map((o) => plain(o)) as unknown as {
      metadata: { name: string };
      spec: {
        policyTypes: string[];
        ingress?: { from: { namespaceSelector: { matchLabels: Record<string, string> } }[] }[];
      };
    }[];
    const deny = policies.find((p) => p.metadata.name === "default-deny-ingress")!;
    expect(deny.spec.ingress).toBeUndefined();
    const allow = policies.find((p) => p.metadata.name === "allow-knative-and-gateway")!;
    expect(
      allow.spec.ingress![0]!.from.map((f) => f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]),
    ).toEqual(["knative-serving", "kourier-system", "maas"]);
  });

  it("infra/tenant/namespace.yaml is the rendering for the example tenant (no drift)", () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const file = path.resolve(here, "../../../infra/tenant/namespace.yaml");
    const docs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS());
    const example = renderTenantNamespace({ id: "tnt_example", slug: "example" }).map(plain);
    expect(docs).toEqual(example);
  });
});
