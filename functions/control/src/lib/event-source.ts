/** CloudEvents `source` of every event the control API emits (a URI-reference, spec §3.1.1). */
export const EVENT_SOURCE = "/functions/control";
