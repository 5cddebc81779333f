import { type Database, newId, type TenantRole, withSystem } from "@maas/db";
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWTPayload, SignJWT } from "jose";
import type { Kysely } from "kysely";
import { type GeneratedApiKey, generateApiKey } from "../api-key/api-key.js";

export const ISSUER = "https://idp.test/";
export const AUDIENCE = "maas-test";

export interface SeededKey extends GeneratedApiKey {
  tenantId: string;
  role: TenantRole;
}

/** Inserts a tenant (as the system role) and returns its id. */
export async function seedTenant(
  db: Kysely<Database>,
  status: "active" | "suspended" = "active",
): Promise<string> {
  const id = newId("tnt");
  await withSystem(db, (trx) =>
    trx
      .insertInto("tenants")
      .values({ id, slug: `t-${id.slice(-10)}`, name: `tenant ${id}`, status })
      .execute(),
  );
  return id;
}

/** Creates a key the way the control API will: generate, store prefix + hash, keep the secret. */
export async function seedKey(db: Kysely<Database>, tenantId: string, role: TenantRole): Promise<SeededKey> {
  const key = generateApiKey();
  await withSystem(db, (trx) =>
    trx
      .insertInto("api_keys")
      .values({ id: key.id, tenant_id: tenantId, prefix: key.prefix, hash: key.hash, role, name: role })
      .execute(),
  );
  return { ...key, tenantId, role };
}

export async function seedMember(
  db: Kysely<Database>,
  tenantId: string,
  subject: string,
  role: TenantRole,
): Promise<void> {
  await withSystem(db, (trx) =>
    trx
      .insertInto("members")
      .values({ id: newId("mem"), tenant_id: tenantId, subject, role })
      .execute(),
  );
}

export async function setTenantStatus(
  db: Kysely<Database>,
  tenantId: string,
  status: "active" | "suspended",
): Promise<void> {
  await withSystem(db, (trx) =>
    trx.updateTable("tenants").set({ status }).where("id", "=", tenantId).execute(),
  );
}

export async function revokeKey(db: Kysely<Database>, keyId: string): Promise<void> {
  await withSystem(db, (trx) =>
    trx.updateTable("api_keys").set({ revoked_at: new Date() }).where("id", "=", keyId).execute(),
  );
}

/** An identity provider in a box: an ES256 key pair with a kid, its JWKS, and a token signer. */
export interface TestIdp {
  jwks: JSONWebKeySet;
  kid: string;
  sign(
    claims: JWTPayload,
    options?: { issuer?: string; audience?: string; expiresIn?: string | number },
  ): Promise<string>;
}

export async function createTestIdp(kid = "test-key-1"): Promise<TestIdp> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  return {
    jwks: { keys: [jwk] },
    kid,
    sign: (claims, options = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid })
        .setIssuer(options.issuer ?? ISSUER)
        .setAudience(options.audience ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? "5m")
        .sign(privateKey),
  };
}
