import { events } from "../catalog/events.js";
import { createEvent } from "../event/create-event.js";

/** Valid sample data for every catalog type, shared by tests across the repo. */
export const sampleData = {
  tenantCreated: { tenantId: "tnt_acme", slug: "acme", name: "Acme Inc", plan: "free" },
  modelVersionUploaded: {
    tenantId: "tnt_acme",
    modelId: "mdl_resnet",
    versionId: "mver_1",
    objectKey: "tenants/tnt_acme/models/mdl_resnet/mver_1/fp32.onnx",
    sizeBytes: 102_400,
    sha256: "a".repeat(64),
    format: "onnx" as const,
  },
  inferenceCompleted: {
    tenantId: "tnt_acme",
    deploymentId: "dep_1",
    modelId: "mdl_resnet",
    versionId: "mver_1",
    requestId: "req_1",
    status: "ok" as const,
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 12.5,
    inputBytes: 1024,
    outputBytes: 64,
    costMicros: 150,
  },
};

/** A tenant.created event for tests. */
export function sampleTenantCreated(overrides: { tenantId?: string; id?: string } = {}) {
  const tenantId = overrides.tenantId ?? "tnt_acme";
  return createEvent(events.tenantCreated, {
    source: "/functions/control",
    data: { ...sampleData.tenantCreated, tenantId },
    ...(overrides.id === undefined ? {} : { id: overrides.id }),
  });
}
