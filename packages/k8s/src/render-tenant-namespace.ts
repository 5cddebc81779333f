import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { LimitRange } from "kubernetes-models/v1/LimitRange";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { ResourceQuota } from "kubernetes-models/v1/ResourceQuota";
import { z } from "zod";
import { LABELS, tenantNamespace } from "./labels.js";
import { GPU_RESOURCE } from "./render-inference-service.js";

export const tenantNamespaceInputSchema = z.object({
  id: z.string().regex(/^tnt_[0-9a-z]+$/),
  slug: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/),
  /** Cluster capacity for the tenant; defaults fit the free plan. */
  quota: z
    .object({
      cpu: z.string().default("8"),
      memory: z.string().default("16Gi"),
      gpus: z.int().nonnegative().default(0),
      services: z.int().nonnegative().default(10),
    })
    .prefault({}),
});
export type TenantNamespaceInput = z.input<typeof tenantNamespaceInputSchema>;

export interface TenantNamespaceOptions {
  /** Where the gateway runs: the only platform caller of inference Services. Default "maas". */
  gatewayNamespace?: string;
  /** Knative's own namespace (activator, autoscaler scraping queue-proxy metrics). */
  knativeNamespace?: string;
  /** The Knative ingress (kourier/istio) namespace, which proxies routed traffic. */
  ingressNamespace?: string;
  /** Where the object store runs in-cluster (model fetch); external S3 goes out on 443. */
  objectStoreNamespace?: string;
}

export type TenantObject = Namespace | ResourceQuota | LimitRange | NetworkPolicy;

const nsSelector = (name: string) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
});

/**
 * Everything a tenant gets on `tenant.created`, in apply order: its Namespace, a ResourceQuota (CPU,
 * memory, GPUs, Knative Services), a LimitRange (defaults so a pod without requests still counts
 * against the quota), and NetworkPolicies: ingress denied by default and admitted only from Knative's
 * data plane and the gateway; egress only to DNS, the object store and HTTPS (the model fetch).
 *
 * @example
 * for (const obj of renderTenantNamespace({ id: "tnt_1", slug: "acme" })) await applier.apply(obj);
 */
export function renderTenantNamespace(
  tenant: TenantNamespaceInput,
  options: TenantNamespaceOptions = {},
): TenantObject[] {
  const t = tenantNamespaceInputSchema.parse(tenant);
  const namespace = tenantNamespace(t.slug);
  const labels = {
    [LABELS.tenant]: t.id,
    [LABELS.tenantSlug]: t.slug,
    [LABELS.managedBy]: "maas-deployer",
  };
  const meta = (name: string) => ({ name, namespace, labels });
  const gateway = options.gatewayNamespace ?? "maas";
  const knative = options.knativeNamespace ?? "knative-serving";
  const ingress = options.ingressNamespace ?? "kourier-system";
  const objectStore = options.objectStoreNamespace ?? "maas-infra";

  return [
    new Namespace({
      metadata: {
        name: namespace,
        labels: {
          ...labels,
          // Knative pods need no privileges; baseline is enforced, restricted only warned about.
          "pod-security.kubernetes.io/enforce": "baseline",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    }),
    new ResourceQuota({
      metadata: meta("tenant-quota"),
      spec: {
        hard: {
          "requests.cpu": t.quota.cpu,
          "limits.cpu": t.quota.cpu,
          "requests.memory": t.quota.memory,
          "limits.memory": t.quota.memory,
          [`requests.${GPU_RESOURCE}`]: String(t.quota.gpus),
          "count/services.serving.knative.dev": String(t.quota.services),
        },
      },
    }),
    new LimitRange({
      metadata: meta("tenant-limits"),
      spec: {
        limits: [
          {
            type: "Container",
            defaultRequest: { cpu: "250m", memory: "256Mi" },
            default: { cpu: "1", memory: "1Gi" },
            max: { cpu: t.quota.cpu, memory: t.quota.memory },
          },
        ],
      },
    }),
    new NetworkPolicy({
      metadata: meta("default-deny-ingress"),
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    }),
    new NetworkPolicy({
      metadata: meta("allow-knative-and-gateway"),
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [nsSelector(knative), nsSelector(ingress), nsSelector(gateway)] }],
      },
    }),
    new NetworkPolicy({
      metadata: meta("restrict-egress"),
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ...nsSelector("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
          { to: [nsSelector(objectStore)] },
          // External object stores (S3 proper) over HTTPS.
          { ports: [{ protocol: "TCP", port: 443 }] },
        ],
      },
    }),
  ];
}
