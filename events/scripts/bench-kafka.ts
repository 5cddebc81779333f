// Rough throughput of the codec and of KafkaPublisher against the local Kafka (KAFKA_BROKERS).
// Run: pnpm --filter @maas/events exec tsx scripts/bench-kafka.ts [events=20000]
import { createEvent, decodeKafka, encodeKafka, events } from "../src/index.js";
import { createKafka, KafkaPublisher } from "../src/kafka/index.js";
import { createTestTopic, deleteTestTopics, kafkaBrokers, sampleData } from "../src/testing/index.js";

const n = Number(process.argv[2] ?? 20_000);
const evs = Array.from({ length: n }, () =>
  createEvent(events.inferenceCompleted, { source: "/bench", data: sampleData.inferenceCompleted }),
);

let t = performance.now();
const records = evs.map((e) => encodeKafka(e));
const encodeUs = ((performance.now() - t) * 1000) / n;
t = performance.now();
for (const r of records) decodeKafka(r);
const decodeUs = ((performance.now() - t) * 1000) / n;

const kafka = createKafka({ brokers: kafkaBrokers(), clientId: "bench" });
const topic = await createTestTopic(kafka, 3);
const publisher = new KafkaPublisher({ kafka, topic, lingerMs: 5, maxBatchSize: 500 });
await publisher.connect();
t = performance.now();
// Many concurrent single-event publishes: the linger batches them.
await Promise.all(evs.map((e) => publisher.publish([e])));
const seconds = (performance.now() - t) / 1000;
await publisher.close();
await deleteTestTopics(kafka, [topic]);
process.stdout.write(
  `${JSON.stringify({ events: n, encodeUsPerEvent: +encodeUs.toFixed(1), decodeUsPerEvent: +decodeUs.toFixed(1), publishEventsPerSec: Math.round(n / seconds) })}\n`,
);
