import type { Admin, ITopicConfig } from "kafkajs";

export interface CreateTopicsOptions {
  /** How long to wait for every partition to have a leader (default 30 s). */
  timeoutMs?: number;
}

/**
 * Creates the topics and waits until the broker's metadata shows every partition with a leader.
 * kafkajs's own `waitForLeaders: true` retries only LEADER_NOT_AVAILABLE: a broker that has just
 * started answers UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this topic-partition") for
 * a moment, and kafkajs throws it (a CI run failed on it). Here any metadata error is polled through
 * until the deadline. A topic that already exists is not an error.
 *
 * @example
 * await createTopicsAndWait(admin, [{ topic: "maas.usage", numPartitions: 12, replicationFactor: 1 }]);
 */
export async function createTopicsAndWait(
  admin: Admin,
  topics: ITopicConfig[],
  options: CreateTopicsOptions = {},
): Promise<void> {
  if (topics.length === 0) return;
  await admin.createTopics({ topics, waitForLeaders: false });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const names = topics.map((t) => t.topic);
  let last: unknown;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      const ready = topics.every((t) => {
        const parts = meta.topics.find((m) => m.name === t.topic)?.partitions ?? [];
        const wanted = t.numPartitions === undefined || t.numPartitions < 0 ? 1 : t.numPartitions;
        return parts.length >= wanted && parts.every((p) => p.leader >= 0 && p.partitionErrorCode === 0);
      });
      if (ready) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`topics ${names.join(", ")} have no leaders after ${options.timeoutMs ?? 30_000} ms`, {
        cause: last,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
