export { OutboxRelay, type OutboxRelayOptions } from "./outbox-relay.js";
export { type WriteOutboxOptions, writeOutbox } from "./write-outbox.js";
