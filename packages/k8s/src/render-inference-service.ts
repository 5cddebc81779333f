import { Service } from "@kubernetes-models/knative/serving.knative.dev/v1/Service";
import { z } from "zod";
import { LABELS, tenantNamespace } from "./labels.js";

const dnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/, "expected a DNS label (≤ 40)");
const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$/, "expected a Kubernetes quantity");

/** What the renderer needs to know about one deployment (the deployments row plus its model). */
export const inferenceDeploymentSchema = z.object({
  id: z.string().regex(/^dep_[0-9a-z]+$/),
  tenantId: z.string().regex(/^tnt_[0-9a-z]+$/),
  tenantSlug: dnsLabel,
  modelId: z.string().regex(/^mdl_[0-9a-z]+$/),
  /** The model's name as clients call it (`/v2/models/<name>`). */
  modelName: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  versionId: z.string().regex(/^mver_[0-9a-z]+$/),
  /** 1, 2, 3 … as the v2 protocol's version. */
  version: z.union([z.string(), z.int().positive()]).transform(String),
  /** The Service's name in the tenant namespace. */
  name: dnsLabel,
  variant: z.enum(["fp32", "fp16", "int8"]).default("fp32"),
  device: z.enum(["cpu", "gpu"]).default("cpu"),
  minScale: z.int().nonnegative().default(0),
  maxScale: z.int().positive().default(1),
  targetConcurrency: z.int().positive().optional(),
  maxBatchSize: z.int().positive().default(1),
  /** Where inference fetches the model: `s3://bucket/key` or `file://…`. */
  modelUri: z.string().min(1),
  modelSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type InferenceDeployment = z.input<typeof inferenceDeploymentSchema>;

export interface RenderOptions {
  /** The inference function's image. */
  image: string;
  /** Knative's `scale-to-zero-pod-retention-period` (Go duration); default "1m". */
  scaleToZeroRetention?: string;
  /** CPU request/limit; the limit also becomes the inference's CPU_LIMIT (ORT intra-op threads). */
  cpu?: { request: string; limit: string };
  memory?: { request: string; limit: string };
  /** GPU scheduling: the node label to select and the taint to tolerate. */
  gpu?: { nodeSelector?: Record<string, string>; tolerationKey?: string };
  /** How long model fetch + session create + warm-up may take before Kubernetes gives up (s). */
  startupTimeoutSeconds?: number;
  /** A Secret with S3_ENDPOINT, keys … for the model fetch (envFrom); none for file:// models. */
  storageSecret?: string;
  /** More env for the container (after the rendered one). */
  env?: Record<string, string>;
}

/** Annotations the renderer sets on the revision template (Knative autoscaling, KPA). */
export const AUTOSCALING = {
  class: "autoscaling.knative.dev/class",
  minScale: "autoscaling.knative.dev/min-scale",
  maxScale: "autoscaling.knative.dev/max-scale",
  initialScale: "autoscaling.knative.dev/initial-scale",
  target: "autoscaling.knative.dev/target",
  metric: "autoscaling.knative.dev/metric",
  retention: "autoscaling.knative.dev/scale-to-zero-pod-retention-period",
} as const;

/** The resource name Kubernetes' device plugin registers for NVIDIA GPUs. */
export const GPU_RESOURCE = "nvidia.com/gpu";

/** CPU cores from a quantity ("2" → 2, "1500m" → 1, at least 1): ORT's intra-op thread count. */
export function cpuCores(quantityText: string): number {
  const millis = quantityText.endsWith("m") ? Number(quantityText.slice(0, -1)) : Number(quantityText) * 1000;
  return Math.max(1, Math.floor(millis / 1000));
}

/**
 * Renders one deployment as a Knative Service (serving.knative.dev/v1) in `tenant-<slug>`: KPA on
 * concurrency with the target from the max batch size (a full batch per instance is what batching
 * needs), scale to zero unless min-scale ≥ 1, probes that wait for the model's warm-up, and GPU
 * limits plus node selector and toleration for GPU deployments. Throws a ZodError on bad input.
 *
 * @example
 * const svc = renderInferenceService(
 *   { id: "dep_1", tenantId: "tnt_1", tenantSlug: "acme", modelId: "mdl_1", modelName: "resnet",
 *     versionId: "mver_1", version: 1, name: "resnet", maxBatchSize: 8, modelUri: "s3://maas-models/k" },
 *   { image: "ghcr.io/maas/inference:1.0.0" },
 * );
 */
export function renderInferenceService(deployment: InferenceDeployment, options: RenderOptions): Service {
  const d = inferenceDeploymentSchema.parse(deployment);
  if (d.minScale > d.maxScale) throw new Error(`minScale ${d.minScale} > maxScale ${d.maxScale}`);
  const cpu = options.cpu ?? { request: "1", limit: "2" };
  const memory = options.memory ?? { request: "1Gi", limit: "2Gi" };
  quantity.parse(cpu.request);
  quantity.parse(cpu.limit);
  quantity.parse(memory.request);
  quantity.parse(memory.limit);
  const gpu = d.device === "gpu";
  const target = d.targetConcurrency ?? d.maxBatchSize;
  const labels = {
    [LABELS.tenant]: d.tenantId,
    [LABELS.tenantSlug]: d.tenantSlug,
    [LABELS.model]: d.modelId,
    [LABELS.version]: d.versionId,
    [LABELS.deployment]: d.id,
    [LABELS.managedBy]: "maas-deployer",
    [LABELS.component]: "inference",
  };
  const env: Record<string, string> = {
    MODEL_URI: d.modelUri,
    ...(d.modelSha256 ? { MODEL_SHA256: d.modelSha256 } : {}),
    MODEL_NAME: d.modelName,
    MODEL_VERSION: d.version,
    DEVICE: d.device,
    MAX_BATCH_SIZE: String(d.maxBatchSize),
    CPU_LIMIT: String(cpuCores(cpu.limit)),
    CACHE_DIR: "/tmp/models",
    ...options.env,
  };
  const startupTimeout = options.startupTimeoutSeconds ?? 600;
  const period = 2;
  const limits: Record<string, string> = { cpu: cpu.limit, memory: memory.limit };
  if (gpu) limits[GPU_RESOURCE] = "1";

  return new Service({
    metadata: {
      name: d.name,
      namespace: tenantNamespace(d.tenantSlug),
      labels,
      annotations: { "maas.dev/model-name": d.modelName, "maas.dev/variant": d.variant },
    },
    spec: {
      template: {
        metadata: {
          labels,
          annotations: {
            [AUTOSCALING.class]: "kpa.autoscaling.knative.dev",
            [AUTOSCALING.metric]: "concurrency",
            [AUTOSCALING.minScale]: String(d.minScale),
            [AUTOSCALING.maxScale]: String(d.maxScale),
            // At least one: the first revision proves the model loads and warms before deployment.ready
            // (initial-scale 0 would also need allow-zero-initial-scale); idle ones then scale to zero.
            [AUTOSCALING.initialScale]: String(Math.max(1, d.minScale)),
            [AUTOSCALING.target]: String(target),
            [AUTOSCALING.retention]: options.scaleToZeroRetention ?? "1m",
          },
        },
        spec: {
          // Hard cap per instance: two batches (one computing, one forming); the queue-proxy holds the rest.
          containerConcurrency: target * 2,
          // Service links inject an env var per Service in the namespace: a known cold-start cost.
          enableServiceLinks: false,
          // Model fetch + session create + warm-up can be long; requests wait in the activator meanwhile.
          timeoutSeconds: 300,
          ...(gpu
            ? {
                nodeSelector: options.gpu?.nodeSelector ?? { "nvidia.com/gpu.present": "true" },
                tolerations: [
                  {
                    key: options.gpu?.tolerationKey ?? GPU_RESOURCE,
                    operator: "Exists",
                    effect: "NoSchedule",
                  },
                ],
              }
            : {}),
          containers: [
            {
              name: "inference",
              image: options.image,
              ports: [{ name: "http1", containerPort: 8080 }],
              env: Object.entries(env).map(([name, value]) => ({ name, value })),
              ...(options.storageSecret ? { envFrom: [{ secretRef: { name: options.storageSecret } }] } : {}),
              resources: {
                requests: {
                  cpu: cpu.request,
                  memory: memory.request,
                  ...(gpu ? { [GPU_RESOURCE]: "1" } : {}),
                },
                limits,
              },
              // Ready only after warm-up (the inference function's /readyz).
              readinessProbe: {
                httpGet: { path: "/readyz", port: 8080 },
                periodSeconds: 1,
                failureThreshold: 3,
              },
              // Generous: a multi-GB model fetch must not be killed as a hung start.
              startupProbe: {
                httpGet: { path: "/readyz", port: 8080 },
                periodSeconds: period,
                failureThreshold: Math.ceil(startupTimeout / period),
              },
              livenessProbe: {
                httpGet: { path: "/healthz", port: 8080 },
                periodSeconds: 10,
                failureThreshold: 3,
              },
            },
          ],
        },
      },
    },
  });
}
