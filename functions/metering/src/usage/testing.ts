import { type Database, newId, withSystem } from "@maas/db";
import { createEvent, events, type MaasEvent } from "@maas/events";
import type { Kysely } from "kysely";

/** A tenant with one model, version and deployment, as the system role; for tests and benchmarks. */
export async function seedUsageTenant(
  db: Kysely<Database>,
  options: { plan?: string; device?: "cpu" | "gpu"; slug?: string } = {},
): Promise<{ tenantId: string; modelId: string; versionId: string; deploymentId: string }> {
  const tenantId = newId("tnt");
  const modelId = newId("mdl");
  const versionId = newId("mver");
  const deploymentId = newId("dep");
  const slug = options.slug ?? `t-${tenantId.slice(-10)}`;
  await withSystem(db, async (trx) => {
    await trx
      .insertInto("tenants")
      .values({ id: tenantId, slug, name: slug, plan: options.plan ?? "free" })
      .execute();
    await trx.insertInto("models").values({ id: modelId, tenant_id: tenantId, name: "resnet" }).execute();
    await trx
      .insertInto("model_versions")
      .values({
        id: versionId,
        tenant_id: tenantId,
        model_id: modelId,
        version: 1,
        size_bytes: 1,
        sha256: "0".repeat(64),
        object_key: "k",
      })
      .execute();
    await trx
      .insertInto("deployments")
      .values({
        id: deploymentId,
        tenant_id: tenantId,
        model_id: modelId,
        version_id: versionId,
        name: "live",
        device: options.device ?? "cpu",
      })
      .execute();
  });
  return { tenantId, modelId, versionId, deploymentId };
}

/** One usage event of a seeded tenant. */
export function usageEvent(
  t: { tenantId: string; modelId: string; versionId: string; deploymentId: string },
  o: { startedAt?: string; durationMs?: number; id?: string; source?: string } = {},
): MaasEvent {
  return createEvent(events.inferenceCompleted, {
    source: o.source ?? "/functions/gateway",
    ...(o.id ? { id: o.id } : {}),
    data: {
      tenantId: t.tenantId,
      deploymentId: t.deploymentId,
      modelId: t.modelId,
      versionId: t.versionId,
      requestId: newId("req"),
      status: "ok",
      startedAt: o.startedAt ?? new Date().toISOString(),
      durationMs: o.durationMs ?? 12,
      inputBytes: 100,
      outputBytes: 10,
      costMicros: 1,
    },
  });
}
