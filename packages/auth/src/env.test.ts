import { EnvError, parseEnv } from "@maas/config";
import { createDb, migrateToLatest } from "@maas/db";
import { describe, expect, it } from "vitest";
import { authEnvSchema, authFromEnv } from "./env.js";
import { AUDIENCE, createTestIdp, ISSUER, seedMember, seedTenant } from "./testing/fixtures.js";

describe("auth env", () => {
  it("defaults: API keys only, a 5 s cache, 1 s for refusals", () => {
    const env = parseEnv(authEnvSchema, {});
    expect(env).toMatchObject({
      AUTH_CACHE_TTL_MS: 5_000,
      AUTH_NEGATIVE_CACHE_TTL_MS: 1_000,
      JWT_TENANT_CLAIM: "tenant_id",
      JWT_OPERATOR_CLAIM: "maas_platform_role",
      JWT_OPERATOR_VALUE: "operator",
      JWT_CLOCK_TOLERANCE_S: 30,
    });
    expect(env.JWKS_URL).toBeUndefined();
  });

  it("refuses a JWKS without issuer and audience, two key sources, bad JSON, or a TTL above 5 s", () => {
    const keys = JSON.stringify({ keys: [{ kty: "EC" }] });
    const bad: [Record<string, string>, string][] = [
      [{ JWKS_URL: "https://idp.test/jwks" }, "JWT_ISSUER"],
      [{ JWKS_JSON: keys, JWT_ISSUER: "i" }, "JWT_AUDIENCE"],
      [
        { JWKS_JSON: keys, JWKS_URL: "https://idp.test/jwks", JWT_ISSUER: "i", JWT_AUDIENCE: "a" },
        "JWKS_JSON",
      ],
      [{ JWKS_JSON: "{not json", JWT_ISSUER: "i", JWT_AUDIENCE: "a" }, "JWKS_JSON"],
      [{ AUTH_CACHE_TTL_MS: "60000" }, "AUTH_CACHE_TTL_MS"],
    ];
    for (const [source, key] of bad) {
      let error: unknown;
      try {
        parseEnv(authEnvSchema, source);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(source)).toBeInstanceOf(EnvError);
      expect((error as EnvError).issues.map((i) => i.key)).toContain(key);
    }
  });

  it("builds a verifier that takes API keys and JWTs from an inline JWKS", { timeout: 30_000 }, async () => {
    const handle = createDb({});
    try {
      await migrateToLatest(handle.db);
      const tenant = await seedTenant(handle.db);
      await seedMember(handle.db, tenant, "alice", "developer");
      const idp = await createTestIdp();
      const env = parseEnv(authEnvSchema, {
        JWKS_JSON: JSON.stringify(idp.jwks),
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        JWT_TENANT_CLAIM: "org",
      });
      const auth = authFromEnv(env, handle.db);
      expect(auth.cache).toBeDefined();
      const result = await auth.verifier.verify(await idp.sign({ sub: "alice", org: tenant }));
      expect(result.ok && result.principal.role).toBe("developer");
    } finally {
      await handle.close();
    }
  });
});
