// Creates the platform's Kafka topics if missing (idempotent); used by `pnpm infra up` and by CI
// against its Kafka service container. Usage: tsx scripts/infra/ensure-kafka-topics.ts name:partitions…
import { defaultInfra } from "@maas/config";
import { createTopicsAndWait } from "@maas/events/kafka";
import { Kafka, logLevel } from "kafkajs";
import { z } from "zod";
import { parseTopicSpecs, planTopics } from "./topic-spec.js";

const env = z
  .object({
    KAFKA_BROKERS: z.string().min(1).default(`${defaultInfra.kafka.host}:${defaultInfra.kafka.port}`),
  })
  .parse(process.env);

const wanted = parseTopicSpecs(process.argv.slice(2));
const kafka = new Kafka({
  clientId: "maas-infra",
  brokers: env.KAFKA_BROKERS.split(",").map((b) => b.trim()),
  logLevel: logLevel.ERROR,
  // A broker that has just opened its port may still be electing itself controller: retry, quickly.
  retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 3_000 },
});
const admin = kafka.admin();
await admin.connect();
try {
  const metadata = await admin.fetchTopicMetadata();
  const existing = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
  const plan = planTopics(wanted, existing);
  if (plan.create.length > 0) {
    await createTopicsAndWait(
      admin,
      plan.create.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: 1 })),
    );
  }
  if (plan.grow.length > 0) {
    await admin.createPartitions({
      topicPartitions: plan.grow.map((t) => ({ topic: t.name, count: t.partitions })),
    });
  }
  for (const t of [...plan.create, ...plan.grow]) {
    process.stderr.write(`kafka: topic ${t.name} ready with ${t.partitions} partitions\n`);
  }
} finally {
  await admin.disconnect();
}
