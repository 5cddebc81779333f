export { type CreateEventInit, createEvent } from "./create-event.js";
export { newEventId } from "./event-id.js";
export { isJsonContentType, type MaasEvent } from "./maas-event.js";
export { validateEvent } from "./validate-event.js";
