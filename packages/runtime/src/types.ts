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
  };
}

export type { Logger };
