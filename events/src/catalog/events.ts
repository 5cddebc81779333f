import { z } from "zod";
import { defineEvent } from "./define-event.js";
import {
  apiKeyId,
  deploymentId,
  invoiceId,
  micros,
  modelId,
  modelVersionId,
  sha256,
  tenantId,
  utcTime,
} from "./ids.js";

// Every platform event type (DESIGN §3) is declared here once. Each data schema carries `tenantId`,
// which `createEvent` copies into the `tenantid`/`partitionkey` extensions.

const reasonCode = z.string().regex(/^[A-Z][A-Z0-9_]*$/, "expected a SCREAMING_SNAKE reason code");
const variant = z.enum(["fp32", "fp16", "int8"]);
const tensor = z.object({
  name: z.string().min(1),
  /** Open Inference Protocol v2 datatype, e.g. FP32, INT64, BYTES. */
  datatype: z.string().regex(/^[A-Z0-9]+$/),
  /** -1 marks a dynamic dimension (usually the batch). */
  shape: z.array(z.int().min(-1)),
});

export const tenantCreated = defineEvent({
  type: "io.maas.tenant.created.v1",
  version: 1,
  topic: "maas.events",
  description: "A tenant was created; the deployer prepares its namespace.",
  data: z.object({
    tenantId,
    slug: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/, "expected a DNS-label slug"),
    name: z.string().min(1).max(200),
    plan: z.string().min(1),
  }),
});

export const modelVersionUploaded = defineEvent({
  type: "io.maas.model.version.uploaded.v1",
  version: 1,
  topic: "maas.events",
  description: "All parts of a model version are in object storage; the pipeline verifies and converts it.",
  data: z.object({
    tenantId,
    modelId,
    versionId: modelVersionId,
    objectKey: z.string().min(1),
    sizeBytes: z.int().nonnegative(),
    sha256,
    format: z.literal("onnx"),
  }),
});

export const modelVersionReady = defineEvent({
  type: "io.maas.model.version.ready.v1",
  version: 1,
  topic: "maas.events",
  description: "A model version passed validation; its signature and converted variants are known.",
  data: z.object({
    tenantId,
    modelId,
    versionId: modelVersionId,
    signature: z.object({ inputs: z.array(tensor), outputs: z.array(tensor) }),
    variants: z
      .array(z.object({ variant, objectKey: z.string().min(1), sizeBytes: z.int().nonnegative(), sha256 }))
      .min(1),
  }),
});

export const modelVersionRejected = defineEvent({
  type: "io.maas.model.version.rejected.v1",
  version: 1,
  topic: "maas.events",
  description: "A model version failed verification (checksum, ONNX parse, unsupported operators).",
  data: z.object({
    tenantId,
    modelId,
    versionId: modelVersionId,
    reason: reasonCode,
    message: z.string(),
  }),
});

export const deploymentRequested = defineEvent({
  type: "io.maas.deployment.requested.v1",
  version: 1,
  topic: "maas.events",
  description:
    "A tenant asked to serve a model version; the deployer renders and applies its Knative Service.",
  data: z.object({
    tenantId,
    deploymentId,
    modelId,
    versionId: modelVersionId,
    variant,
    device: z.enum(["cpu", "gpu"]),
    /** 0 scales to zero when idle. */
    minScale: z.int().nonnegative(),
    maxScale: z.int().positive(),
    /** Knative concurrency target, about the max batch size. */
    targetConcurrency: z.int().positive(),
  }),
});

export const deploymentReady = defineEvent({
  type: "io.maas.deployment.ready.v1",
  version: 1,
  topic: "maas.events",
  description: "A deployment's inference service is warmed up and routable.",
  data: z.object({ tenantId, deploymentId, url: z.url() }),
});

export const deploymentFailed = defineEvent({
  type: "io.maas.deployment.failed.v1",
  version: 1,
  topic: "maas.events",
  description: "A deployment could not become ready.",
  data: z.object({ tenantId, deploymentId, reason: reasonCode, message: z.string() }),
});

export const deploymentDeleted = defineEvent({
  type: "io.maas.deployment.deleted.v1",
  version: 1,
  topic: "maas.events",
  description: "A deployment was removed; its service is torn down.",
  data: z.object({ tenantId, deploymentId }),
});

export const inferenceCompleted = defineEvent({
  type: "io.maas.inference.completed.v1",
  version: 1,
  topic: "maas.usage",
  description: "One inference request finished; metering rolls these up, deduplicated by event id.",
  data: z.object({
    tenantId,
    deploymentId,
    modelId,
    versionId: modelVersionId,
    requestId: z.string().min(1),
    apiKeyId: apiKeyId.optional(),
    status: z.enum(["ok", "error"]),
    startedAt: utcTime,
    durationMs: z.number().nonnegative(),
    inputBytes: z.int().nonnegative(),
    outputBytes: z.int().nonnegative(),
    /** Price of this request in micro-units; the invoice is the sum of these. */
    costMicros: micros,
  }),
});

export const quotaThresholdCrossed = defineEvent({
  type: "io.maas.quota.threshold.crossed.v1",
  version: 1,
  topic: "maas.events",
  description: "A tenant's use of a quota crossed 50, 80 or 100 percent of its limit.",
  data: z.object({
    tenantId,
    quota: z.enum(["budget", "storage", "models"]),
    thresholdPercent: z.literal([50, 80, 100]),
    used: z.int().nonnegative(),
    limit: z.int().nonnegative(),
    unit: z.enum(["micros", "bytes", "count"]),
    /** Billing period (YYYY-MM) for the budget quota. */
    period: z
      .string()
      .regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/)
      .optional(),
  }),
});

export const invoiceIssued = defineEvent({
  type: "io.maas.invoice.issued.v1",
  version: 1,
  topic: "maas.events",
  description: "A billing period was closed into an invoice (one per tenant and period).",
  data: z.object({
    tenantId,
    invoiceId,
    periodStart: utcTime,
    periodEnd: utcTime,
    currency: z.string().regex(/^[A-Z]{3}$/),
    totalMicros: micros,
    lines: z.array(
      z.object({
        description: z.string(),
        quantity: z.int().nonnegative(),
        unitPriceMicros: micros,
        amountMicros: micros,
      }),
    ),
  }),
});

/**
 * Knative PingSource (sources.knative.dev/v1) events that trigger scheduled work such as billing. Its
 * `data` is whatever the PingSource's `data` says: JSON when `contentType` is JSON, else a string.
 */
export const knativePing = defineEvent({
  type: "dev.knative.sources.ping",
  version: 1,
  topic: "maas.events",
  description: "A Knative PingSource tick (cron schedule); data is the PingSource's configured payload.",
  data: z.json(),
});

/** The platform's own event types, by name. */
export const events = {
  tenantCreated,
  modelVersionUploaded,
  modelVersionReady,
  modelVersionRejected,
  deploymentRequested,
  deploymentReady,
  deploymentFailed,
  deploymentDeleted,
  inferenceCompleted,
  quotaThresholdCrossed,
  invoiceIssued,
} as const;

export type PlatformEvents = typeof events;
/** The data type of a definition: `EventData<typeof events.tenantCreated>`. */
export type EventData<D> = D extends { data: z.ZodType<infer T> } ? T : never;
