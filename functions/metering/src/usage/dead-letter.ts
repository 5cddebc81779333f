import type { IHeaders, Producer } from "kafkajs";

/** A usage record that can never be ingested (not a valid catalog CloudEvent), with where it was. */
export interface InvalidRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders | undefined;
  /** Why decoding refused it. */
  reason: string;
}

/** Takes invalid records somewhere they are kept; rejecting = the batch is not committed (retried). */
export type DeadLetterSink = (records: readonly InvalidRecord[]) => Promise<void>;

/** Headers added to a dead-lettered record (its own headers are kept as they were). */
export const DEAD_LETTER_HEADERS = {
  reason: "maas-dead-letter-reason",
  topic: "maas-dead-letter-topic",
  partition: "maas-dead-letter-partition",
  offset: "maas-dead-letter-offset",
} as const;

/**
 * Copies invalid usage records byte for byte to the dead-letter topic (`maas.dlq`), with the reason
 * and their origin in headers, acknowledged by all in-sync replicas before the batch's offset is
 * committed: a record metering cannot read is kept for an operator, never silently dropped. A crash
 * between this send and the commit sends it again (at least once, like every Kafka delivery here).
 *
 * @example
 * const deadLetter = kafkaDeadLetter(producer, "maas.dlq");
 * new UsageBatchConsumer({ kafka, groupId, topic, ingest, deadLetter });
 */
export function kafkaDeadLetter(producer: Producer, topic: string): DeadLetterSink {
  return async (records) => {
    await producer.send({
      topic,
      acks: -1,
      messages: records.map((r) => ({
        key: r.key,
        value: r.value,
        headers: {
          ...r.headers,
          [DEAD_LETTER_HEADERS.reason]: r.reason,
          [DEAD_LETTER_HEADERS.topic]: r.topic,
          [DEAD_LETTER_HEADERS.partition]: String(r.partition),
          [DEAD_LETTER_HEADERS.offset]: r.offset,
        },
      })),
    });
  };
}
