export { DeliveryError } from "./delivery-error.js";
export { HttpPublisher, type HttpPublisherOptions } from "./http-publisher.js";
export { MemoryPublisher } from "./memory-publisher.js";
export { type PostEventOptions, postEvent } from "./post-event.js";
export type { EventPublisher } from "./publisher.js";
