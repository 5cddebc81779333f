export { catalog, getDefinition } from "./catalog.js";
export { defineEvent, type EventDefinition, type EventTopic, topics } from "./define-event.js";
export { type EventData, events, knativePing, type PlatformEvents } from "./events.js";
export * as ids from "./ids.js";
