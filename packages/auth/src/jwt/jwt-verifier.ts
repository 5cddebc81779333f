import { AppError } from "@maas/errors";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { type AuthFailure, unauthenticated } from "../principal.js";

/** Asymmetric algorithms only: an HMAC secret shared with the identity provider is not a JWKS. */
export const DEFAULT_JWT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
];

export interface JwtVerifierOptions {
  /** Where the keys come from: the provider's JWKS endpoint, or a key set given inline. */
  jwks: { url: string | URL; timeoutMs?: number; cooldownMs?: number } | { keys: JSONWebKeySet };
  issuer: string;
  audience: string;
  /** Accepted clock skew for exp/nbf/iat, in seconds (default 30). */
  clockToleranceSeconds?: number;
  /** The claim naming the tenant (default `tenant_id`). */
  tenantClaim?: string;
  /** The claim holding the platform role (default `maas_platform_role`) … */
  operatorClaim?: string;
  /** … and the value that makes the subject a platform operator (default `operator`). */
  operatorValue?: string;
  algorithms?: string[];
}

export interface JwtIdentity {
  subject: string;
  /** The tenant claim, as sent (validated as an id later); null when the token has none. */
  tenantId: string | null;
  operator: boolean;
  /** The token's `exp` in ms since the epoch, so nothing caches it past its life. */
  expiresAtMs: number | undefined;
}

export type JwtVerification = { ok: true; identity: JwtIdentity } | AuthFailure;

export interface JwtVerifier {
  /** Checks signature, issuer, audience and times; identity lookups come after. */
  verify(token: string): Promise<JwtVerification>;
}

// jose errors meaning "we could not get the keys", not "the token is bad": the request should not
// be told its token is invalid (and nothing should be cached) when the identity provider is down.
const KEY_SOURCE_FAILURES = new Set(["ERR_JWKS_TIMEOUT", "ERR_JWKS_INVALID", "ERR_JOSE_GENERIC"]);

/**
 * A JWT verifier over a JWKS (remote, fetched and cached by jose, refetched on an unknown `kid`;
 * or inline). Only asymmetric algorithms are accepted and `sub` is required.
 *
 * @example
 * const jwt = createJwtVerifier({ jwks: { url: "https://idp.example/.well-known/jwks.json" },
 *   issuer: "https://idp.example/", audience: "maas" });
 * const result = await jwt.verify(token);
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const keys: JWTVerifyGetKey =
    "url" in options.jwks
      ? createRemoteJWKSet(new URL(options.jwks.url), {
          timeoutDuration: options.jwks.timeoutMs ?? 5_000,
          cooldownDuration: options.jwks.cooldownMs ?? 30_000,
        })
      : createLocalJWKSet(options.jwks.keys);
  const tenantClaim = options.tenantClaim ?? "tenant_id";
  const operatorClaim = options.operatorClaim ?? "maas_platform_role";
  const operatorValue = options.operatorValue ?? "operator";
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSeconds ?? 30,
    algorithms: options.algorithms ?? DEFAULT_JWT_ALGORITHMS,
    requiredClaims: ["sub", "exp"],
  };

  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, verifyOptions));
      } catch (error) {
        return rejection(error);
      }
      const subject = payload.sub;
      if (typeof subject !== "string" || subject === "")
        return unauthenticated("invalid_token", "token has no subject");
      const tenant = payload[tenantClaim];
      if (tenant !== undefined && typeof tenant !== "string") {
        return unauthenticated("invalid_token", `claim ${tenantClaim} must be a string`);
      }
      const platformRole = payload[operatorClaim];
      const operator = Array.isArray(platformRole)
        ? platformRole.includes(operatorValue)
        : platformRole === operatorValue;
      return {
        ok: true,
        identity: {
          subject,
          tenantId: tenant ?? null,
          operator,
          expiresAtMs: payload.exp === undefined ? undefined : payload.exp * 1000,
        },
      };
    },
  };
}

function rejection(error: unknown): AuthFailure {
  if (error instanceof errors.JWTExpired) return unauthenticated("expired", "token expired");
  if (error instanceof errors.JOSEError && !KEY_SOURCE_FAILURES.has(error.code)) {
    // Bad signature, unknown kid, wrong issuer or audience, not yet valid, malformed: all one answer
    // to the caller; the reason stays in the message for the caller to fix its configuration.
    return unauthenticated("invalid_token", `invalid token: ${error.message}`);
  }
  throw new AppError("UPSTREAM_UNAVAILABLE", "the identity provider's keys are unavailable", {
    cause: error,
  });
}
