export { DeliveryError } from "./delivery-error.js";
export { HttpPublisher, type HttpPublisherOptions } from "./http-publisher.js";
export { MemoryPublisher } from "./memory-publisher.js";
export { type PostEventOptions, type PostEventResult, postEvent } from "./post-event.js";
export type { EventPublisher } from "./publisher.js";
export { isRetriable, retryAfterMs } from "./retriable.js";
