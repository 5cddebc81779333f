import { setTimeout as sleep } from "node:timers/promises";
import { type Database, type DbHandle, migrateToLatest, withSystem } from "@maas/db";
import { AppError } from "@maas/errors";
import { type AppEnv, createLogger, errorHandler, requestId } from "@maas/runtime";
import { Hono } from "hono";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLastUsedTracker } from "../api-key/last-used.js";
import { verifyApiKey } from "../api-key/verify-api-key.js";
import { createMemoryPrincipalCache } from "../cache/principal-cache.js";
import { createJwtVerifier, type JwtVerifier } from "../jwt/jwt-verifier.js";
import { verifyJwt } from "../jwt/verify-jwt.js";
import type { AuthEnv } from "../middleware/auth-env.js";
import { authenticate } from "../middleware/authenticate.js";
import { requireOperator, requirePermission } from "../middleware/require-permission.js";
import type { VerifyResult } from "../principal.js";
import { createVerifier, type Verifier } from "../verifier.js";
import {
  AUDIENCE,
  createTestIdp,
  ISSUER,
  revokeKey,
  type SeededKey,
  seedKey,
  seedMember,
  seedTenant,
  setTenantStatus,
  type TestIdp,
} from "./fixtures.js";

/** The auth contract, run against PGlite (unit project) and real PostgreSQL (integration project). */
export interface AuthEngine {
  name: "pglite" | "postgres";
  open(): Promise<{ handle: DbHandle; dispose(): Promise<void> }>;
}

interface Seed {
  tenant: string;
  suspendedTenant: string;
  owner: SeededKey;
  developer: SeededKey;
  viewer: SeededKey;
  revoked: SeededKey;
  ofSuspended: SeededKey;
}

function failure(result: VerifyResult) {
  expect(result.ok).toBe(false);
  return result.ok ? undefined : { code: result.code, reason: result.reason };
}

export function describeAuth(engine: AuthEngine): void {
  describe(`auth on ${engine.name}`, { timeout: 60_000 }, () => {
    let dispose: () => Promise<void>;
    let db: Kysely<Database>;
    let seed: Seed;
    let idp: TestIdp;
    let jwt: JwtVerifier;

    beforeAll(async () => {
      const opened = await engine.open();
      dispose = opened.dispose;
      db = opened.handle.db;
      await migrateToLatest(db);
      const tenant = await seedTenant(db);
      const suspendedTenant = await seedTenant(db, "suspended");
      const revoked = await seedKey(db, tenant, "admin");
      await revokeKey(db, revoked.id);
      seed = {
        tenant,
        suspendedTenant,
        owner: await seedKey(db, tenant, "owner"),
        developer: await seedKey(db, tenant, "developer"),
        viewer: await seedKey(db, tenant, "viewer"),
        revoked,
        ofSuspended: await seedKey(db, suspendedTenant, "owner"),
      };
      await seedMember(db, tenant, "alice", "admin");
      await seedMember(db, tenant, "victor", "viewer");
      await seedMember(db, suspendedTenant, "sam", "owner");
      idp = await createTestIdp();
      jwt = createJwtVerifier({ jwks: { keys: idp.jwks }, issuer: ISSUER, audience: AUDIENCE });
    }, 60_000);
    afterAll(async () => {
      await dispose?.();
    }, 60_000);

    describe("verifyApiKey (uncached)", () => {
      it("a valid key gives its tenant, role and key id", async () => {
        const result = await verifyApiKey(db, seed.developer.secret);
        expect(result).toEqual({
          ok: true,
          principal: {
            kind: "api_key",
            tenantId: seed.tenant,
            role: "developer",
            keyId: seed.developer.id,
            subject: seed.developer.id,
            operator: false,
          },
        });
      });

      it("a wrong secret under a real prefix is 401", async () => {
        const forged = `maas_${seed.owner.prefix}_${"A".repeat(43)}`;
        expect(failure(await verifyApiKey(db, forged))).toEqual({
          code: "UNAUTHENTICATED",
          reason: "wrong_secret",
        });
      });

      it("an unknown prefix is 401", async () => {
        const unknown = seed.owner.secret.replace(seed.owner.prefix, "zzzzzzzzzzzz");
        expect(failure(await verifyApiKey(db, unknown))).toEqual({
          code: "UNAUTHENTICATED",
          reason: "unknown_key",
        });
      });

      it("something not shaped like a key is 401 without a lookup", async () => {
        for (const junk of ["", "maas_", "bearer", `${seed.owner.secret}x`, seed.owner.secret.slice(0, -1)]) {
          expect(failure(await verifyApiKey(db, junk)), junk).toEqual({
            code: "UNAUTHENTICATED",
            reason: "malformed",
          });
        }
      });

      it("a revoked key is 401", async () => {
        expect(failure(await verifyApiKey(db, seed.revoked.secret))).toEqual({
          code: "UNAUTHENTICATED",
          reason: "revoked",
        });
      });

      it("a key of a suspended tenant is 401", async () => {
        expect(failure(await verifyApiKey(db, seed.ofSuspended.secret))).toEqual({
          code: "UNAUTHENTICATED",
          reason: "tenant_inactive",
        });
      });
    });

    describe("the caching verifier", () => {
      it("a key revoked while cached fails within the TTL, and never before a lookup says so", async () => {
        const ttlMs = 400;
        const key = await seedKey(db, seed.tenant, "developer");
        const verifier = createVerifier({ db, cache: createMemoryPrincipalCache(), ttlMs });
        expect((await verifier.verify(key.secret)).ok).toBe(true);
        await revokeKey(db, key.id);
        const revokedAt = performance.now();
        let failedAfter: number | undefined;
        while (performance.now() - revokedAt < ttlMs * 3) {
          const result = await verifier.verify(key.secret);
          if (!result.ok) {
            failedAfter = performance.now() - revokedAt;
            expect(result.reason).toBe("revoked");
            break;
          }
          await sleep(20);
        }
        expect(failedAfter, "the revoked key kept working").toBeDefined();
        // Bound: the TTL plus one polling step and one lookup.
        expect(failedAfter).toBeLessThanOrEqual(ttlMs + 250);
        // And once refused, it stays refused.
        expect((await verifier.verify(key.secret)).ok).toBe(false);
      });

      it("serves from the cache within the TTL (the row can vanish) and still refuses a wrong secret", async () => {
        const key = await seedKey(db, seed.tenant, "viewer");
        const verifier = createVerifier({ db, cache: createMemoryPrincipalCache(), ttlMs: 60_000 });
        expect((await verifier.verify(key.secret)).ok).toBe(true);
        await withSystem(db, (trx) => trx.deleteFrom("api_keys").where("id", "=", key.id).execute());
        const cached = await verifier.verify(key.secret);
        expect(cached.ok && cached.principal.role).toBe("viewer");
        const forged = `maas_${key.prefix}_${"B".repeat(43)}`;
        expect(failure(await verifier.verify(forged))).toEqual({
          code: "UNAUTHENTICATED",
          reason: "wrong_secret",
        });
      });

      it("caches refusals no longer than the negative TTL", async () => {
        const verifier = createVerifier({
          db,
          cache: createMemoryPrincipalCache(),
          ttlMs: 5_000,
          negativeTtlMs: 150,
        });
        const tenant = await seedTenant(db, "suspended");
        const key = await seedKey(db, tenant, "owner");
        expect(failure(await verifier.verify(key.secret))?.reason).toBe("tenant_inactive");
        await setTenantStatus(db, tenant, "active");
        // Still the cached refusal right away …
        expect((await verifier.verify(key.secret)).ok).toBe(false);
        await sleep(200);
        // … and the reactivated tenant's key works once it expired.
        expect((await verifier.verify(key.secret)).ok).toBe(true);
      });

      it("concurrent first requests for one key share one lookup", async () => {
        const key = await seedKey(db, seed.tenant, "developer");
        let lookups = 0;
        const cache = createMemoryPrincipalCache();
        const counting = {
          ...cache,
          async set(...args: Parameters<typeof cache.set>) {
            lookups++;
            await cache.set(...args);
          },
        };
        const verifier = createVerifier({ db, cache: counting });
        const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(key.secret)));
        expect(results.every((r) => r.ok)).toBe(true);
        expect(lookups).toBe(1);
      });

      it("touches last_used_at at most once per interval", async () => {
        const key = await seedKey(db, seed.tenant, "developer");
        const lastUsed = createLastUsedTracker({ db, intervalMs: 60_000 });
        const verifier = createVerifier({ db, cache: createMemoryPrincipalCache(), lastUsed });
        const read = () =>
          withSystem(db, (trx) =>
            trx
              .selectFrom("api_keys")
              .select("last_used_at")
              .where("id", "=", key.id)
              .executeTakeFirstOrThrow(),
          );
        expect((await read()).last_used_at).toBeNull();
        await verifier.verify(key.secret);
        await lastUsed.flush();
        const first = (await read()).last_used_at;
        expect(first).toBeInstanceOf(Date);
        for (let i = 0; i < 5; i++) await verifier.verify(key.secret);
        await lastUsed.flush();
        expect((await read()).last_used_at).toEqual(first);
        // A wrong secret is not a use.
        const other = await seedKey(db, seed.tenant, "viewer");
        await verifier.verify(`maas_${other.prefix}_${"C".repeat(43)}`);
        await lastUsed.flush();
        const untouched = await withSystem(db, (trx) =>
          trx
            .selectFrom("api_keys")
            .select("last_used_at")
            .where("id", "=", other.id)
            .executeTakeFirstOrThrow(),
        );
        expect(untouched.last_used_at).toBeNull();
      });
    });

    describe("JWT", () => {
      it("a member's token gives the member's role in the token's tenant", async () => {
        const token = await idp.sign({ sub: "alice", tenant_id: seed.tenant });
        expect(await verifyJwt(db, jwt, token)).toEqual({
          ok: true,
          principal: { kind: "jwt", subject: "alice", tenantId: seed.tenant, role: "admin", operator: false },
        });
      });

      it("expired, wrong issuer, wrong audience, unknown kid, bad signature, not yet valid: 401", async () => {
        const other = await createTestIdp("unknown-kid");
        const sameKidOtherKey = await createTestIdp(idp.kid);
        const claims = { sub: "alice", tenant_id: seed.tenant };
        const cases: [string, string, string][] = [
          ["expired", await idp.sign(claims, { expiresIn: Math.floor(Date.now() / 1000) - 120 }), "expired"],
          ["wrong issuer", await idp.sign(claims, { issuer: "https://evil.test/" }), "invalid_token"],
          ["wrong audience", await idp.sign(claims, { audience: "someone-else" }), "invalid_token"],
          ["unknown kid", await other.sign(claims), "invalid_token"],
          ["bad signature", await sameKidOtherKey.sign(claims), "invalid_token"],
          [
            "not yet valid",
            await idp.sign({ ...claims, nbf: Math.floor(Date.now() / 1000) + 3600 }),
            "invalid_token",
          ],
          // alg "none" (RFC 7519 §6): unsigned, never accepted.
          [
            "unsigned",
            `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(
              JSON.stringify({
                ...claims,
                iss: ISSUER,
                aud: AUDIENCE,
                exp: Math.floor(Date.now() / 1000) + 300,
              }),
            ).toString("base64url")}.`,
            "invalid_token",
          ],
        ];
        for (const [name, token, reason] of cases) {
          expect(failure(await verifyJwt(db, jwt, token)), name).toEqual({ code: "UNAUTHENTICATED", reason });
        }
      });

      it("accepts an expiry within the clock tolerance and refuses one beyond it", async () => {
        const now = Math.floor(Date.now() / 1000);
        const tolerant = createJwtVerifier({
          jwks: { keys: idp.jwks },
          issuer: ISSUER,
          audience: AUDIENCE,
          clockToleranceSeconds: 60,
        });
        const claims = { sub: "alice", tenant_id: seed.tenant };
        expect((await verifyJwt(db, tolerant, await idp.sign(claims, { expiresIn: now - 30 }))).ok).toBe(
          true,
        );
        expect((await verifyJwt(db, tolerant, await idp.sign(claims, { expiresIn: now - 90 }))).ok).toBe(
          false,
        );
      });

      it("a subject that is no member of the token's tenant is 403; so is an unknown tenant", async () => {
        const stranger = await idp.sign({ sub: "mallory", tenant_id: seed.tenant });
        expect(failure(await verifyJwt(db, jwt, stranger))).toEqual({
          code: "FORBIDDEN",
          reason: "not_member",
        });
        const nowhere = await idp.sign({ sub: "alice", tenant_id: "tnt_doesnotexist0000" });
        expect(failure(await verifyJwt(db, jwt, nowhere))).toEqual({
          code: "FORBIDDEN",
          reason: "not_member",
        });
        const noTenant = await idp.sign({ sub: "alice" });
        expect(failure(await verifyJwt(db, jwt, noTenant))).toEqual({
          code: "FORBIDDEN",
          reason: "no_tenant",
        });
      });

      it("a malformed tenant claim is 401 and never reaches the database", async () => {
        const token = await idp.sign({ sub: "alice", tenant_id: "tnt_A' or true --" });
        expect(failure(await verifyJwt(db, jwt, token))).toEqual({
          code: "UNAUTHENTICATED",
          reason: "invalid_token",
        });
      });

      it("a member of a suspended tenant is 401", async () => {
        const token = await idp.sign({ sub: "sam", tenant_id: seed.suspendedTenant });
        expect(failure(await verifyJwt(db, jwt, token))).toEqual({
          code: "UNAUTHENTICATED",
          reason: "tenant_inactive",
        });
      });

      it("the operator claim makes an operator, with or without a tenant", async () => {
        const operator = await idp.sign({ sub: "ops", maas_platform_role: "operator" });
        expect(await verifyJwt(db, jwt, operator)).toEqual({
          ok: true,
          principal: { kind: "jwt", subject: "ops", tenantId: null, role: null, operator: true },
        });
        const inTenant = await idp.sign({
          sub: "ops",
          tenant_id: seed.tenant,
          maas_platform_role: ["operator"],
        });
        const result = await verifyJwt(db, jwt, inTenant);
        expect(result.ok && result.principal).toMatchObject({
          operator: true,
          role: null,
          tenantId: seed.tenant,
        });
        const notQuite = await idp.sign({ sub: "ops", maas_platform_role: "operators" });
        expect(failure(await verifyJwt(db, jwt, notQuite))?.code).toBe("FORBIDDEN");
      });

      it("a remote JWKS (JWKS_URL) is fetched, and its outage is a 502, not a 401", async () => {
        const { createServer } = await import("node:http");
        let up = true;
        const server = createServer((_req, res) => {
          if (!up) {
            res.writeHead(503).end();
            return;
          }
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(idp.jwks));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
          const address = server.address();
          const port = typeof address === "object" && address !== null ? address.port : 0;
          const remote = createJwtVerifier({
            jwks: { url: `http://127.0.0.1:${port}/jwks.json` },
            issuer: ISSUER,
            audience: AUDIENCE,
          });
          const token = await idp.sign({ sub: "alice", tenant_id: seed.tenant });
          const ok = await verifyJwt(db, remote, token);
          expect(ok.ok && ok.principal.role).toBe("admin");

          up = false;
          const cold = createJwtVerifier({
            jwks: { url: `http://127.0.0.1:${port}/jwks.json` },
            issuer: ISSUER,
            audience: AUDIENCE,
          });
          const outage = await verifyJwt(db, cold, token).catch((e: unknown) => e);
          expect(outage).toBeInstanceOf(AppError);
          expect((outage as AppError).code).toBe("UPSTREAM_UNAVAILABLE");
        } finally {
          server.close();
        }
      });

      it("the caching verifier never keeps a token past its expiry", async () => {
        // Clock tolerance 0 and a 5 s cache: only the expiry bound on the entry can make the second
        // call re-verify (and refuse) before the cache TTL runs out.
        const verifier = createVerifier({
          db,
          jwt: createJwtVerifier({
            jwks: { keys: idp.jwks },
            issuer: ISSUER,
            audience: AUDIENCE,
            clockToleranceSeconds: 0,
          }),
          cache: createMemoryPrincipalCache(),
          ttlMs: 5_000,
        });
        const exp = Math.floor(Date.now() / 1000) + 2;
        const token = await idp.sign({ sub: "alice", tenant_id: seed.tenant }, { expiresIn: exp });
        expect((await verifier.verify(token)).ok).toBe(true);
        await sleep(exp * 1000 - Date.now() + 50);
        expect(failure(await verifier.verify(token))?.reason).toBe("expired");
      });
    });

    describe("middleware (app.request)", () => {
      let app: Hono<AppEnv & AuthEnv>;
      let verifier: Verifier;
      beforeAll(() => {
        verifier = createVerifier({ db, jwt, cache: createMemoryPrincipalCache() });
        const logger = createLogger({ name: "auth-test", level: "silent" });
        app = new Hono<AppEnv & AuthEnv>();
        app.use(requestId());
        app.onError(errorHandler({ logger }));
        app.use("/v1/*", authenticate({ verifier }));
        app.get("/v1/whoami", (c) => c.json(c.var.principal));
        app.post("/v1/models", requirePermission("models:write"), (c) => c.json({ created: true }, 201));
        app.post("/v1/tenants", requireOperator(), (c) => c.json({ created: true }, 201));
      });

      const call = (path: string, headers: Record<string, string> = {}, method = "GET") =>
        app.request(path, { method, headers });

      it("no credentials: 401 with a bare Bearer challenge and the error body", async () => {
        const res = await call("/v1/whoami");
        expect(res.status).toBe(401);
        expect(res.headers.get("www-authenticate")).toBe('Bearer realm="maas"');
        const body = (await res.json()) as { error: { code: string; requestId: string } };
        expect(body.error.code).toBe("UNAUTHENTICATED");
        expect(body.error.requestId).toMatch(/^req_/);
      });

      it("a bad key, a revoked key, a non-Bearer scheme: 401 invalid_token", async () => {
        for (const authorization of [
          `Bearer maas_${seed.owner.prefix}_${"D".repeat(43)}`,
          `Bearer ${seed.revoked.secret}`,
          `Bearer ${seed.ofSuspended.secret}`,
          `Basic ${Buffer.from("a:b").toString("base64")}`,
          "Bearer",
        ]) {
          const res = await call("/v1/whoami", { authorization });
          expect(res.status, authorization).toBe(401);
          expect(res.headers.get("www-authenticate")).toBe('Bearer realm="maas", error="invalid_token"');
        }
      });

      it("a valid key by Bearer (any case) or x-api-key sets the principal", async () => {
        for (const headers of [
          { authorization: `Bearer ${seed.developer.secret}` } as Record<string, string>,
          { authorization: `bearer ${seed.developer.secret}` },
          { "x-api-key": seed.developer.secret },
        ]) {
          const res = await call("/v1/whoami", headers);
          expect(res.status).toBe(200);
          expect(await res.json()).toMatchObject({
            kind: "api_key",
            tenantId: seed.tenant,
            role: "developer",
          });
        }
      });

      it("two different credentials in one request are refused", async () => {
        const res = await call("/v1/whoami", {
          authorization: `Bearer ${seed.developer.secret}`,
          "x-api-key": seed.owner.secret,
        });
        expect(res.status).toBe(401);
      });

      it("requirePermission: 403 for a role without it, through for one with it", async () => {
        const denied = await call("/v1/models", { authorization: `Bearer ${seed.viewer.secret}` }, "POST");
        expect(denied.status).toBe(403);
        expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
        const allowed = await call(
          "/v1/models",
          { authorization: `Bearer ${seed.developer.secret}` },
          "POST",
        );
        expect(allowed.status).toBe(201);
        const member = await idp.sign({ sub: "victor", tenant_id: seed.tenant });
        expect((await call("/v1/models", { authorization: `Bearer ${member}` }, "POST")).status).toBe(403);
      });

      it("requireOperator: only an operator JWT; an owner key or a member is 403", async () => {
        const operator = await idp.sign({ sub: "ops", maas_platform_role: "operator" });
        expect((await call("/v1/tenants", { authorization: `Bearer ${operator}` }, "POST")).status).toBe(201);
        expect(
          (await call("/v1/tenants", { authorization: `Bearer ${seed.owner.secret}` }, "POST")).status,
        ).toBe(403);
        const admin = await idp.sign({ sub: "alice", tenant_id: seed.tenant });
        expect((await call("/v1/tenants", { authorization: `Bearer ${admin}` }, "POST")).status).toBe(403);
        // And an operator without a tenant holds no tenant permission.
        expect((await call("/v1/models", { authorization: `Bearer ${operator}` }, "POST")).status).toBe(403);
      });

      it("a JWT of a non-member is 403 with an insufficient_scope challenge", async () => {
        const stranger = await idp.sign({ sub: "mallory", tenant_id: seed.tenant });
        const res = await call("/v1/whoami", { authorization: `Bearer ${stranger}` });
        expect(res.status).toBe(403);
        expect(res.headers.get("www-authenticate")).toBe('Bearer realm="maas", error="insufficient_scope"');
      });

      it("JWTs are refused when no JWT verifier is configured", async () => {
        const keysOnly = createVerifier({ db });
        const token = await idp.sign({ sub: "alice", tenant_id: seed.tenant });
        expect(failure(await keysOnly.verify(token))).toEqual({
          code: "UNAUTHENTICATED",
          reason: "jwt_not_configured",
        });
        expect((await keysOnly.verify(seed.owner.secret)).ok).toBe(true);
      });
    });
  });
}
