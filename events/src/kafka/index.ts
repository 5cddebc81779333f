export { type CreateKafkaOptions, createKafka, parseBrokers } from "./create-kafka.js";
export { decodeKafkaFast } from "./fast-decode.js";
export {
  type ConsumerLogger,
  KafkaEventConsumer,
  type KafkaEventConsumerOptions,
  type RecordMeta,
} from "./kafka-event-consumer.js";
export { KafkaPublisher, type KafkaPublisherOptions } from "./kafka-publisher.js";
