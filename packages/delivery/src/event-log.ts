import type { MaasEvent } from "@maas/events";

/** Where a record sits in the log. Offsets are strings, as Kafka clients report them (int64). */
export interface LogRecordMeta {
  topic: string;
  partition: number;
  offset: string;
}

/** Resolving commits the record for the group; throwing leaves it uncommitted and it is redelivered. */
export type LogHandler = (event: MaasEvent, meta: LogRecordMeta) => Promise<void>;

export interface SubscribeOptions {
  /** Where a group with no committed offset starts: the first record (true) or new records only (false). */
  fromBeginning?: boolean;
  /** A record that is not a valid CloudEvent (outside producers); it is skipped and committed. */
  onInvalid?: (error: unknown, meta: LogRecordMeta) => void;
}

export interface LogSubscription {
  /** Stops fetching, waits for the handler in flight; nothing uncommitted is lost (it is redelivered later). */
  stop(): Promise<void>;
}

/**
 * An append-only, partitioned event log with consumer groups: Kafka's model, which the Kafka-class
 * Broker and KafkaSource rely on. Records are partitioned by the `partitionkey` extension (the tenant),
 * so one tenant's events keep their order. A group's offset for a record is committed only after the
 * handler resolved: at-least-once.
 */
export interface EventLog {
  append(topic: string, events: readonly MaasEvent[]): Promise<void>;
  subscribe(
    topic: string,
    groupId: string,
    handler: LogHandler,
    opts?: SubscribeOptions,
  ): Promise<LogSubscription>;
  close(): Promise<void>;
}
