export { isRetriable, retryAfterMs } from "@maas/events";
export {
  type BrokerIngressOptions,
  createBrokerIngress,
  type IngressRoute,
  type RunningIngress,
  startBrokerIngress,
} from "./broker-ingress.js";
export {
  type AttemptResponse,
  type DeliverOptions,
  type DeliveryOutcome,
  deliverWithRetry,
  type SendEvent,
  sendBinary,
  withErrorExtensions,
} from "./deliver-with-retry.js";
export {
  backoffMs,
  type DeliveryPolicy,
  type DeliverySpec,
  type Destination,
  defaultDeliveryPolicy,
  deliverySpecSchema,
  destinationSchema,
  parseDeliverySpec,
  parseIsoDurationMs,
} from "./delivery-spec.js";
export { Dispatcher, type DispatcherOptions, type DispatcherStats } from "./dispatcher.js";
export { EmbeddedEventLog, type EmbeddedEventLogOptions } from "./embedded-event-log.js";
export type { EventLog, LogHandler, LogRecordMeta, LogSubscription, SubscribeOptions } from "./event-log.js";
export { KafkaEventLog, type KafkaEventLogOptions } from "./kafka-event-log.js";
export {
  matchesTrigger,
  parseTriggerFilter,
  type SubscriptionsApiFilter,
  subscriptionsApiFilterSchema,
  type TriggerFilter,
  triggerFilterSchema,
} from "./trigger-filter.js";
