import { generateApiKey } from "@maas/auth";
import { defaultInfra } from "@maas/config";
import {
  createDb,
  createFreshDatabase,
  type Database,
  type FreshDatabase,
  migrateToLatest,
  newId,
  withSystem,
} from "@maas/db";
import type { Kysely } from "kysely";

export const adminUrl =
  process.env.DATABASE_URL ??
  `postgres://${defaultInfra.postgres.user}:${defaultInfra.postgres.password}@${defaultInfra.postgres.host}:${defaultInfra.postgres.port}/${defaultInfra.postgres.database}`;
export const redisUrl =
  process.env.REDIS_URL ?? `redis://${defaultInfra.redis.host}:${defaultInfra.redis.port}`;
export const kafkaBrokers =
  process.env.KAFKA_BROKERS ?? `${defaultInfra.kafka.host}:${defaultInfra.kafka.port}`;

export interface SeededTenant {
  tenantId: string;
  key: string;
  keyId: string;
  keyPrefix: string;
  modelName: string;
  deploymentId: string;
}

/** A fresh migrated database of its own (integration tests and the bench; drop it after). */
export async function freshGatewayDb(): Promise<{
  fresh: FreshDatabase;
  db: Kysely<Database>;
  close(): Promise<void>;
}> {
  const fresh = await createFreshDatabase(adminUrl);
  const handle = createDb({ url: fresh.url });
  await migrateToLatest(handle.db);
  return {
    fresh,
    db: handle.db,
    async close() {
      await handle.close();
      await fresh.drop();
    },
  };
}

/**
 * A tenant with an API key, quotas, and one model whose version 1 has a ready deployment at `url`.
 *
 * @example
 * const t = await seedTenantWithModel(db, { url: upstream.url, modelName: "resnet", quotas: { max_qps: 50 } });
 */
export async function seedTenantWithModel(
  db: Kysely<Database>,
  options: {
    url: string;
    modelName?: string;
    quotas?: { max_qps?: number; max_concurrency?: number; monthly_budget_micros?: number };
  },
): Promise<SeededTenant> {
  const tenantId = newId("tnt");
  const modelId = newId("mdl");
  const versionId = newId("mver");
  const deploymentId = newId("dep");
  const modelName = options.modelName ?? "resnet";
  const key = generateApiKey();
  await withSystem(db, async (trx) => {
    await trx
      .insertInto("tenants")
      .values({ id: tenantId, slug: `t-${tenantId.slice(-10)}`, name: tenantId })
      .execute();
    await trx
      .insertInto("quotas")
      .values({ tenant_id: tenantId, ...options.quotas })
      .execute();
    await trx
      .insertInto("api_keys")
      .values({
        id: key.id,
        tenant_id: tenantId,
        prefix: key.prefix,
        hash: key.hash,
        role: "developer",
        name: "k",
      })
      .execute();
    await trx.insertInto("models").values({ id: modelId, tenant_id: tenantId, name: modelName }).execute();
    await trx
      .insertInto("model_versions")
      .values({
        id: versionId,
        tenant_id: tenantId,
        model_id: modelId,
        version: 1,
        status: "ready",
        size_bytes: 1,
        sha256: "0".repeat(64),
        object_key: `tenants/${tenantId}/models/${modelId}/1/fp32.onnx`,
      })
      .execute();
    await trx
      .insertInto("deployments")
      .values({
        id: deploymentId,
        tenant_id: tenantId,
        model_id: modelId,
        version_id: versionId,
        name: `d-${deploymentId.slice(-10)}`,
        status: "ready",
        url: options.url,
      })
      .execute();
  });
  return { tenantId, key: key.secret, keyId: key.id, keyPrefix: key.prefix, modelName, deploymentId };
}
