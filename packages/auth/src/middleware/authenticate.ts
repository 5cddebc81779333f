import { AppError } from "@maas/errors";
import type { MiddlewareHandler } from "hono";
import type { AuthFailure, Principal } from "../principal.js";
import type { Verifier } from "../verifier.js";
import type { AuthEnv } from "./auth-env.js";

export interface AuthenticateOptions {
  verifier: Verifier;
  /** The realm named in WWW-Authenticate (default `maas`). */
  realm?: string;
  /** Also accept the credential in this header (default `x-api-key`); null: Authorization only. */
  apiKeyHeader?: string | null;
}

/**
 * Authenticates every request: `Authorization: Bearer <API key or JWT>` (or the API key header),
 * verified by `verifier`, sets `c.var.principal`. Refusals throw AppError for the function's error
 * handler: 401 UNAUTHENTICATED with a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3), or 403
 * FORBIDDEN for a valid identity that grants nothing here.
 *
 * @example
 * app.use("/v1/*", authenticate({ verifier }));
 * app.get("/v1/whoami", (c) => c.json(c.var.principal));
 */
export function authenticate(options: AuthenticateOptions): MiddlewareHandler<AuthEnv> {
  const authenticator = requestAuthenticator(options);
  return async function authenticateMiddleware(c, next) {
    c.set("principal", await authenticator((name) => c.req.header(name)));
    await next();
  };
}

/** Reads a request's headers by lower-case name. */
export type HeaderReader = (name: string) => string | undefined;

/**
 * What `authenticate` does, without Hono: the request's principal, or the AppError that refuses it
 * (401 with its `WWW-Authenticate` challenge, 403). For a handler outside Hono (the gateway's native
 * infer path) that must refuse exactly as the middleware does.
 *
 * @example
 * const authenticateRequest = requestAuthenticator({ verifier });
 * const principal = await authenticateRequest((name) => header(req, name));
 */
export function requestAuthenticator(
  options: AuthenticateOptions,
): (header: HeaderReader) => Promise<Principal> {
  const { verifier } = options;
  const realm = options.realm ?? "maas";
  const apiKeyHeader = options.apiKeyHeader === undefined ? "x-api-key" : options.apiKeyHeader;

  return async function authenticateRequest(header) {
    const authorization = header("authorization");
    const apiKey = apiKeyHeader === null ? undefined : header(apiKeyHeader);
    let credential: string | undefined;
    if (authorization !== undefined) {
      // RFC 7235 §2.1: the scheme is case-insensitive.
      const match = /^Bearer +(\S+) *$/i.exec(authorization);
      if (match?.[1] === undefined) {
        throw challenge(
          realm,
          { code: "UNAUTHENTICATED", message: "expected Authorization: Bearer <token>" },
          true,
        );
      }
      credential = match[1];
      if (apiKey !== undefined && apiKey !== credential) {
        throw challenge(realm, { code: "UNAUTHENTICATED", message: "two different credentials sent" }, true);
      }
    } else {
      credential = apiKey?.trim();
    }
    if (credential === undefined || credential === "") {
      throw challenge(realm, { code: "UNAUTHENTICATED", message: "credentials required" }, false);
    }
    const result = await verifier.verify(credential);
    if (!result.ok) throw challenge(realm, result, true);
    return result.principal;
  };
}

function challenge(
  realm: string,
  failure: Pick<AuthFailure, "code" | "message">,
  presented: boolean,
): AppError {
  // RFC 6750 §3.1: no error attribute when no credentials were sent; invalid_token for bad ones;
  // insufficient_scope with the 403.
  const error = failure.code === "FORBIDDEN" ? "insufficient_scope" : presented ? "invalid_token" : undefined;
  const header = `Bearer realm="${realm}"${error === undefined ? "" : `, error="${error}"`}`;
  return new AppError(failure.code, failure.message, { headers: { "www-authenticate": header } });
}
