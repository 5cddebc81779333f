import { z } from "zod";

/** A Kafka topic the platform needs, with the partition count it should have at least. */
export interface TopicSpec {
  name: string;
  partitions: number;
}

// Kafka's rule for topic names; the partition count is bounded so a typo cannot create 10^6 partitions.
const specSchema = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}:\d{1,4}$/, "expected name:partitions, e.g. maas.events:6")
  .transform((s) => {
    const at = s.lastIndexOf(":");
    return { name: s.slice(0, at), partitions: Number(s.slice(at + 1)) };
  })
  .pipe(z.object({ name: z.string(), partitions: z.number().int().min(1).max(1000) }));

/**
 * Parses `name:partitions` arguments (the form scripts/infra/kafka.sh passes).
 *
 * @example
 * parseTopicSpecs(["maas.events:6", "maas.usage:12"]);
 * // [{ name: "maas.events", partitions: 6 }, { name: "maas.usage", partitions: 12 }]
 */
export function parseTopicSpecs(args: readonly string[]): TopicSpec[] {
  return z.array(specSchema).min(1, "name at least one topic as name:partitions").parse(args);
}

/** What to do so that every wanted topic exists with at least its partition count. */
export interface TopicPlan {
  create: TopicSpec[];
  grow: TopicSpec[];
}

/**
 * Compares wanted topics with what the cluster has. Partitions are only ever added: Kafka cannot
 * remove them, and a topic with more than asked for is fine.
 *
 * @example
 * planTopics([{ name: "a", partitions: 3 }], new Map([["a", 1]])); // { create: [], grow: [a → 3] }
 */
export function planTopics(wanted: readonly TopicSpec[], existing: ReadonlyMap<string, number>): TopicPlan {
  const create: TopicSpec[] = [];
  const grow: TopicSpec[] = [];
  for (const spec of wanted) {
    const have = existing.get(spec.name);
    if (have === undefined) create.push(spec);
    else if (have < spec.partitions) grow.push(spec);
  }
  return { create, grow };
}
