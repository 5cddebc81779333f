import { describe, expect, it } from "vitest";
import { apiKeyMatches, generateApiKey, hashApiKey, parseApiKey } from "./api-key.js";

describe("API keys", () => {
  it("look like maas_<prefix>_<secret> with a 256-bit secret", () => {
    const key = generateApiKey();
    expect(key.id).toMatch(/^key_[0-9a-z]{26}$/);
    expect(key.prefix).toMatch(/^[0-9a-z]{12}$/);
    const [scheme, prefix, ...rest] = key.secret.split("_");
    expect(scheme).toBe("maas");
    expect(prefix).toBe(key.prefix);
    // base64url may itself contain "_": rejoin the tail.
    expect(Buffer.from(rest.join("_"), "base64url")).toHaveLength(32);
  });

  it("never repeat, and the stored hash is not the secret", () => {
    const keys = Array.from({ length: 1000 }, generateApiKey);
    expect(new Set(keys.map((k) => k.secret)).size).toBe(1000);
    expect(new Set(keys.map((k) => k.prefix)).size).toBe(1000);
    for (const key of keys.slice(0, 10)) {
      expect(key.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(key.hash).not.toContain(key.secret.split("_").at(-1));
    }
  });

  it("parse back to their prefix; anything else parses to undefined", () => {
    const key = generateApiKey();
    expect(parseApiKey(key.secret)).toEqual({ prefix: key.prefix, token: key.secret });
    for (const bad of [
      "",
      key.secret.slice(1),
      `${key.secret}=`,
      key.secret.replace("maas_", "mass_"),
      key.secret.replace(key.prefix, key.prefix.toUpperCase()),
      `Bearer ${key.secret}`,
      "eyJhbGciOiJFUzI1NiJ9.e30.sig",
    ]) {
      expect(parseApiKey(bad), bad).toBeUndefined();
    }
  });

  it("match their own hash only", () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(apiKeyMatches(a.secret, a.hash)).toBe(true);
    expect(apiKeyMatches(b.secret, a.hash)).toBe(false);
    expect(apiKeyMatches(a.secret, "sha256:short")).toBe(false);
    expect(apiKeyMatches(a.secret, hashApiKey(`${a.secret}x`))).toBe(false);
  });
});
