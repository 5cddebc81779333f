import type { Logger } from "pino";

/**
 * The typed Hono env every function starts from. Functions extend it with their own variables:
 * `type Env = AppEnv & { Variables: { tenant: Tenant } }`.
 */
export interface AppEnv {
  Variables: {
    /** `req_…`, or the caller's sane `x-request-id`; echoed on the response and in every log line. */
    requestId: string;
    /** The function's logger, bound to this request's id. */
    logger: Logger;
    /**
     * Set by a handler whose own Response already carries `x-request-id`: the middleware then leaves
     * the response's headers alone (reading them turns the node server's plain header record into a
     * Headers object and back, ~15 µs a request on the gateway's hot path).
     */
    requestIdInResponse?: boolean;
  };
}

export type { Logger };
