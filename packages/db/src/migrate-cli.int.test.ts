import { defaultInfra } from "@maas/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrateCli } from "./migrate-cli.js";
import { createFreshDatabase, type FreshDatabase } from "./testing/fresh-database.js";

const { user, password, host, port, database } = defaultInfra.postgres;
const adminUrl = process.env.DATABASE_URL || `postgres://${user}:${password}@${host}:${port}/${database}`;

describe("pnpm migrate (on PostgreSQL from DATABASE_URL)", () => {
  let fresh: FreshDatabase;
  beforeAll(async () => {
    fresh = await createFreshDatabase(adminUrl);
  });
  afterAll(async () => {
    await fresh?.drop();
  });

  it("applies, reports and reverts, never printing the password", async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };
    const env = { DATABASE_URL: fresh.url };
    expect(await runMigrateCli([], env, io)).toBe(0);
    expect(await runMigrateCli(["status"], env, io)).toBe(0);
    expect(await runMigrateCli(["down"], env, io)).toBe(0);
    expect(await runMigrateCli(["up"], env, io)).toBe(0);
    expect(lines).toEqual([
      expect.stringMatching(/applied 0001-tenancy$/),
      expect.stringMatching(/applied 0002-registry$/),
      expect.stringMatching(/applied 0003-billing$/),
      expect.stringMatching(/applied 0004-pipeline-claims$/),
      expect.stringMatching(/applied 0005-sealed-webhook-secrets$/),
      expect.stringMatching(/^applied \d{4}-.*Z\s+0001-tenancy$/),
      expect.stringMatching(/^applied \d{4}-.*Z\s+0002-registry$/),
      expect.stringMatching(/^applied \d{4}-.*Z\s+0003-billing$/),
      expect.stringMatching(/^applied \d{4}-.*Z\s+0004-pipeline-claims$/),
      expect.stringMatching(/^applied \d{4}-.*Z\s+0005-sealed-webhook-secrets$/),
      expect.stringMatching(/reverted 0005-sealed-webhook-secrets$/),
      expect.stringMatching(/applied 0005-sealed-webhook-secrets$/),
    ]);
    expect(lines[0]).toContain(fresh.name);
    if (new URL(fresh.url).password)
      expect(lines.join("\n")).not.toContain(`:${new URL(fresh.url).password}@`);
  });
});
