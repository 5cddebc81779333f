import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AuthEnv } from "@maas/auth";
import type { AppEnv } from "@maas/runtime";

/** The control API's Hono env: the runtime's request id and logger, plus the authenticated principal. */
export interface ControlEnv {
  Variables: AppEnv["Variables"] & AuthEnv["Variables"];
}

/** The OpenAPI-aware app every route file registers on. */
export type ControlApp = OpenAPIHono<ControlEnv>;
