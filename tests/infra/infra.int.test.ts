// The four local services answer real clients at the endpoints the platform uses: what
// `pnpm infra up` (or CI's service containers) must provide before any other integration test runs.
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { defaultInfra } from "@maas/config";
import { Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

const { postgres, redis, kafka, minio } = defaultInfra;
const env = {
  databaseUrl:
    process.env.DATABASE_URL ??
    `postgres://${postgres.user}:${postgres.password}@${postgres.host}:${postgres.port}/${postgres.database}`,
  redisUrl: process.env.REDIS_URL ?? `redis://${redis.host}:${redis.port}`,
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? `${kafka.host}:${kafka.port}`).split(","),
  s3Endpoint: process.env.S3_ENDPOINT ?? `http://${minio.host}:${minio.port}`,
  s3Region: process.env.S3_REGION ?? "us-east-1",
  s3AccessKeyId: process.env.S3_ACCESS_KEY_ID ?? minio.accessKey,
  s3SecretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? minio.secretKey,
  s3Bucket: process.env.S3_BUCKET ?? "maas-models",
};

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.allSettled(cleanups.map((c) => c()));
});

describe("local infrastructure", () => {
  it("PostgreSQL accepts the maas superuser and runs a query", async () => {
    const client = new pg.Client({ connectionString: env.databaseUrl });
    cleanups.push(() => client.end());
    await client.connect();
    const { rows } = await client.query<{ db: string; superuser: boolean; version: number }>(
      "select current_database() as db, (select rolsuper from pg_roles where rolname = current_user) as superuser, current_setting('server_version_num')::int as version",
    );
    expect(rows[0]?.db).toBe(new URL(env.databaseUrl).pathname.slice(1));
    expect(rows[0]?.superuser).toBe(true);
    // Row-level security features the platform relies on exist from 15 on.
    expect(rows[0]?.version).toBeGreaterThanOrEqual(150000);
  });

  it("Redis stores and returns a value", async () => {
    const client = new Redis(env.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    cleanups.push(() => client.quit());
    await client.connect();
    const key = `infra-test:${process.pid}:${Date.now()}`;
    await client.set(key, "ok", "EX", 30);
    expect(await client.get(key)).toBe("ok");
    expect(await client.del(key)).toBe(1);
  });

  it("Kafka lists the platform topics with their partition counts", async () => {
    const admin = new Kafka({
      clientId: "infra-test",
      brokers: env.kafkaBrokers,
      logLevel: logLevel.ERROR,
    }).admin();
    cleanups.push(() => admin.disconnect());
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata({ topics: ["maas.events", "maas.usage", "maas.dlq"] });
    const partitions = Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions).toEqual({ "maas.events": 6, "maas.usage": 12, "maas.dlq": 3 });
  });

  it("S3 (MinIO) lists the maas-models bucket", async () => {
    const s3 = new S3Client({
      endpoint: env.s3Endpoint,
      region: env.s3Region,
      forcePathStyle: true,
      credentials: { accessKeyId: env.s3AccessKeyId, secretAccessKey: env.s3SecretAccessKey },
    });
    cleanups.push(async () => s3.destroy());
    const { Buckets } = await s3.send(new ListBucketsCommand({}));
    expect(Buckets?.map((b) => b.Name)).toContain(env.s3Bucket);
  });
});
