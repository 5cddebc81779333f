import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SecretSealer, secretsKeySchema } from "./secret-sealer.js";

const key = () => randomBytes(32);
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

describe("SecretSealer", () => {
  it("seals to something that holds no trace of the secret and opens it again for the same row", () => {
    const sealer = SecretSealer.fromKey(key());
    const sealed = sealer.seal(secret, "whk_1");
    expect(sealed).toMatch(/^sealed:v1:[0-9a-f]{8}:/);
    expect(sealed).not.toContain("whsec_");
    expect(sealed).not.toBe(sealer.seal(secret, "whk_1")); // a fresh IV each time
    expect(sealer.open(sealed, "whk_1")).toBe(secret);
  });

  it("refuses another row's value, a tampered value and another key's value", () => {
    const k = key();
    const sealer = SecretSealer.fromKey(k);
    const sealed = sealer.seal(secret, "whk_1");
    expect(() => sealer.open(sealed, "whk_2")).toThrow();
    const parts = sealed.split(":");
    const body = Buffer.from(parts[4] as string, "base64url");
    body[0] = (body[0] ?? 0) ^ 1;
    parts[4] = body.toString("base64url");
    expect(() => sealer.open(parts.join(":"), "whk_1")).toThrow();
    expect(() => SecretSealer.fromKey(key()).open(sealed, "whk_1")).toThrow(/sealed under key/);
    expect(() => SecretSealer.fromKey(undefined).open(sealed, "whk_1")).toThrow(/needs SECRETS_KEY/);
  });

  it("passes values through without a key, and opens values stored before a key was set", () => {
    const none = SecretSealer.fromKey(undefined);
    expect(none.encrypting).toBe(false);
    expect(none.seal(secret, "whk_1")).toBe(secret);
    expect(SecretSealer.fromKey(key()).open(secret, "whk_1")).toBe(secret);
  });

  it("takes SECRETS_KEY as 32 bytes of base64 and nothing else", () => {
    const k = key();
    expect(secretsKeySchema.parse(k.toString("base64")).equals(k)).toBe(true);
    expect(secretsKeySchema.safeParse(randomBytes(16).toString("base64")).success).toBe(false);
    expect(secretsKeySchema.safeParse("not base64 at all!").success).toBe(false);
  });
});
