export { type CreateKafkaOptions, createKafka, parseBrokers } from "./create-kafka.js";
export { type CreateTopicsOptions, createTopicsAndWait } from "./create-topics.js";
export { decodeKafkaFast } from "./fast-decode.js";
export { javaCompatiblePartitioner, keyHash, murmur2 } from "./java-partitioner.js";
export {
  type ConsumerLogger,
  KafkaEventConsumer,
  type KafkaEventConsumerOptions,
  type RecordMeta,
} from "./kafka-event-consumer.js";
export { KafkaPublisher, type KafkaPublisherOptions } from "./kafka-publisher.js";
export { LingerBatcher, type LingerBatcherOptions } from "./linger-batcher.js";
export { PlatformaticPublisher, type PlatformaticPublisherOptions } from "./platformatic-publisher.js";
