import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { secretsKeySchema } from "@maas/db";
import { afterAll, describe, expect, it } from "vitest";
import { localSecretsKey } from "./secrets-key.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("localSecretsKey", () => {
  it("makes a valid key once per data folder, private to the user, and returns the same one after", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "maas-secrets-key-"));
    dirs.push(dir);
    const first = await localSecretsKey(dir);
    expect(secretsKeySchema.parse(first)).toHaveLength(32);
    expect(await localSecretsKey(dir)).toBe(first);
    expect((await readFile(path.join(dir, "secrets-key"), "utf8")).trim()).toBe(first);
    expect((await stat(path.join(dir, "secrets-key"))).mode & 0o777).toBe(0o600);
    // Two runners starting together on a fresh folder agree on one key.
    const fresh = await mkdtemp(path.join(tmpdir(), "maas-secrets-key-"));
    dirs.push(fresh);
    const [a, b] = await Promise.all([localSecretsKey(fresh), localSecretsKey(fresh)]);
    expect(a).toBe(b);
  });
});
