export {
  API_KEY_PREFIX,
  apiKeyMatches,
  type GeneratedApiKey,
  generateApiKey,
  hashApiKey,
  type ParsedApiKey,
  parseApiKey,
} from "./api-key/api-key.js";
export { createLastUsedTracker, type LastUsedOptions, type LastUsedTracker } from "./api-key/last-used.js";
export { type ApiKeyRecord, lookupApiKey } from "./api-key/lookup-api-key.js";
export { evaluateApiKey, verifyApiKey } from "./api-key/verify-api-key.js";
export {
  apiKeyCacheKey,
  type CachedCredential,
  createMemoryPrincipalCache,
  type MemoryPrincipalCacheOptions,
  type PrincipalCache,
} from "./cache/principal-cache.js";
export { type Auth, type AuthEnvConfig, authEnvSchema, authFromEnv } from "./env.js";
export {
  createJwtVerifier,
  DEFAULT_JWT_ALGORITHMS,
  type JwtIdentity,
  type JwtVerification,
  type JwtVerifier,
  type JwtVerifierOptions,
} from "./jwt/jwt-verifier.js";
export {
  lookupMembership,
  type Membership,
  principalFromMembership,
  resolveJwtIdentity,
  verifyJwt,
} from "./jwt/verify-jwt.js";
export { type AuthEnv, principalOf } from "./middleware/auth-env.js";
export {
  type AuthenticateOptions,
  authenticate,
  type HeaderReader,
  requestAuthenticator,
} from "./middleware/authenticate.js";
export { requireOperator, requirePermission } from "./middleware/require-permission.js";
export type {
  ApiKeyPrincipal,
  AuthFailure,
  AuthFailureReason,
  JwtPrincipal,
  Principal,
  VerifyResult,
} from "./principal.js";
export {
  can,
  canGrant,
  PERMISSIONS,
  type Permission,
  ROLE_PERMISSIONS,
  roleRank,
  TENANT_ROLES,
  type TenantRole,
} from "./rbac.js";
export {
  createVerifier,
  DEFAULT_AUTH_CACHE_TTL_MS,
  DEFAULT_AUTH_NEGATIVE_TTL_MS,
  MAX_CREDENTIAL_LENGTH,
  type Verifier,
  type VerifierOptions,
} from "./verifier.js";
