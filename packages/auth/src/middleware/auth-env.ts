import type { Context } from "hono";
import type { Principal } from "../principal.js";

/** The Hono variables the auth middleware sets: `c.var.principal` after authenticate(). */
export interface AuthEnv {
  Variables: {
    principal: Principal;
  };
}

/** The principal authenticate() set; a route reached without it is wired wrongly (a bug, 500). */
export function principalOf(c: Context<AuthEnv>): Principal {
  const principal = c.get("principal");
  if (principal === undefined)
    throw new Error("no principal: authenticate() must run before this middleware");
  return principal;
}
