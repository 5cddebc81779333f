import { randomUUID } from "node:crypto";
import { defaultInfra } from "@maas/config";
import type { Kafka } from "kafkajs";
import { createTopicsAndWait } from "../kafka/create-topics.js";

/** Integration tests talk to KAFKA_BROKERS, or the project's local Kafka (`pnpm infra up`). */
export function kafkaBrokers(): string {
  return process.env.KAFKA_BROKERS ?? `${defaultInfra.kafka.host}:${defaultInfra.kafka.port}`;
}

/** Integration tests talk to DATABASE_URL, or the project's local Postgres. */
export function databaseUrl(): string {
  const p = defaultInfra.postgres;
  return process.env.DATABASE_URL ?? `postgres://${p.user}:${p.password}@${p.host}:${p.port}/${p.database}`;
}

/** A throwaway topic per test so tests never see each other's records; delete it in afterAll. */
export async function createTestTopic(kafka: Kafka, partitions = 1): Promise<string> {
  const topic = `test.events.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsAndWait(admin, [{ topic, numPartitions: partitions, replicationFactor: 1 }]);
  } finally {
    await admin.disconnect();
  }
  return topic;
}

export async function deleteTestTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...topics] });
  } finally {
    await admin.disconnect();
  }
}

/** Polls until `check` returns true or the deadline passes (then throws with `what`). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The committed offset of a group on one partition ("-1" when nothing was committed). */
export async function committedOffset(
  kafka: Kafka,
  groupId: string,
  topic: string,
  partition = 0,
): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return entry?.partitions.find((p) => p.partition === partition)?.offset ?? "-1";
  } finally {
    await admin.disconnect();
  }
}
