import { optionalUrl } from "@maas/config";
import type { Database } from "@maas/db";
import type { JSONWebKeySet } from "jose";
import type { Kysely } from "kysely";
import { z } from "zod";
import { createLastUsedTracker, type LastUsedTracker } from "./api-key/last-used.js";
import { createMemoryPrincipalCache, type PrincipalCache } from "./cache/principal-cache.js";
import { createJwtVerifier, type JwtVerifier } from "./jwt/jwt-verifier.js";
import { createVerifier, type Verifier } from "./verifier.js";

const jwksSchema = z.object({ keys: z.array(z.looseObject({ kty: z.string() })).min(1) });

const optionalText = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? undefined : v));

/**
 * The auth part of a function's environment. JWTs are on when JWKS_URL or JWKS_JSON is set (then
 * issuer and audience are required); API keys always work.
 */
export const authEnvSchema = z
  .object({
    /** The identity provider's JWKS endpoint. */
    JWKS_URL: optionalUrl(),
    /** An inline key set `{"keys":[…]}` (air-gapped setups, tests). */
    JWKS_JSON: optionalText()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          ctx.addIssue({ code: "custom", message: "not JSON" });
          return z.NEVER;
        }
      })
      .pipe(jwksSchema.optional()),
    JWT_ISSUER: optionalText(),
    JWT_AUDIENCE: optionalText(),
    JWT_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(30),
    JWT_TENANT_CLAIM: z.string().min(1).default("tenant_id"),
    JWT_OPERATOR_CLAIM: z.string().min(1).default("maas_platform_role"),
    JWT_OPERATOR_VALUE: z.string().min(1).default("operator"),
    /** The revocation bound (ms): at most 5 s, the platform's promise (issue 6). 0 = no cache. */
    AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(5_000).default(5_000),
    AUTH_NEGATIVE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(5_000).default(1_000),
    AUTH_CACHE_MAX: z.coerce.number().int().min(1).default(10_000),
  })
  .superRefine((env, ctx) => {
    if (env.JWKS_URL !== undefined && env.JWKS_JSON !== undefined) {
      ctx.addIssue({ code: "custom", path: ["JWKS_JSON"], message: "set JWKS_URL or JWKS_JSON, not both" });
    }
    if (env.JWKS_URL !== undefined || env.JWKS_JSON !== undefined) {
      for (const key of ["JWT_ISSUER", "JWT_AUDIENCE"] as const) {
        if (env[key] === undefined)
          ctx.addIssue({ code: "custom", path: [key], message: "required with a JWKS" });
      }
    }
  });

export type AuthEnvConfig = z.output<typeof authEnvSchema>;

export interface Auth {
  verifier: Verifier;
  cache: PrincipalCache | undefined;
  lastUsed: LastUsedTracker;
  jwt: JwtVerifier | undefined;
}

/**
 * Builds the verifier a function uses from its parsed env, once at start.
 *
 * @example
 * const env = loadEnvOrExit(baseEnvSchema.extend(authEnvSchema.shape)); // or parse separately
 * const { verifier } = authFromEnv(parseEnv(authEnvSchema), db);
 */
export function authFromEnv(env: AuthEnvConfig, db: Kysely<Database>): Auth {
  const jwt = jwtFromEnv(env);
  const cache =
    env.AUTH_CACHE_TTL_MS > 0 ? createMemoryPrincipalCache({ max: env.AUTH_CACHE_MAX }) : undefined;
  const lastUsed = createLastUsedTracker({ db });
  const verifier = createVerifier({
    db,
    jwt,
    cache,
    lastUsed,
    ttlMs: env.AUTH_CACHE_TTL_MS,
    negativeTtlMs: env.AUTH_NEGATIVE_CACHE_TTL_MS,
  });
  return { verifier, cache, lastUsed, jwt };
}

function jwtFromEnv(env: AuthEnvConfig): JwtVerifier | undefined {
  const jwks = env.JWKS_URL !== undefined ? { url: env.JWKS_URL } : env.JWKS_JSON;
  if (jwks === undefined || env.JWT_ISSUER === undefined || env.JWT_AUDIENCE === undefined) return undefined;
  return createJwtVerifier({
    jwks: "url" in jwks ? jwks : { keys: jwks as JSONWebKeySet },
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE_S,
    tenantClaim: env.JWT_TENANT_CLAIM,
    operatorClaim: env.JWT_OPERATOR_CLAIM,
    operatorValue: env.JWT_OPERATOR_VALUE,
  });
}
