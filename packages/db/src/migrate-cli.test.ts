import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrateCli } from "./migrate-cli.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe("pnpm migrate (on a PGlite data directory)", { timeout: 60_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "maas-migrate-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reports pending, applies, is idempotent, reverts; state persists across runs", async () => {
    const run = async (...argv: string[]) => {
      const c = capture();
      const code = await runMigrateCli([...argv, "--pglite", dir], {}, c.io);
      return { code, ...c };
    };
    const pending = await run("status");
    expect(pending.code).toBe(0);
    expect(pending.out).toEqual([
      expect.stringMatching(/^pending\s+0001-tenancy$/),
      expect.stringMatching(/^pending\s+0002-registry$/),
      expect.stringMatching(/^pending\s+0003-billing$/),
      expect.stringMatching(/^pending\s+0004-pipeline-claims$/),
      expect.stringMatching(/^pending\s+0005-sealed-webhook-secrets$/),
    ]);

    const up = await run();
    expect(up).toMatchObject({ code: 0, err: [] });
    expect(up.out).toEqual([
      `pglite ${dir}: applied 0001-tenancy`,
      `pglite ${dir}: applied 0002-registry`,
      `pglite ${dir}: applied 0003-billing`,
      `pglite ${dir}: applied 0004-pipeline-claims`,
      `pglite ${dir}: applied 0005-sealed-webhook-secrets`,
    ]);
    expect((await run("up")).out).toEqual([`pglite ${dir}: nothing to do`]);
    expect((await run("status")).out).toEqual([
      expect.stringMatching(/^applied \d{4}-\d\d-\d\dT.*Z\s+0001-tenancy$/),
      expect.stringMatching(/^applied \d{4}-\d\d-\d\dT.*Z\s+0002-registry$/),
      expect.stringMatching(/^applied \d{4}-\d\d-\d\dT.*Z\s+0003-billing$/),
      expect.stringMatching(/^applied \d{4}-\d\d-\d\dT.*Z\s+0004-pipeline-claims$/),
      expect.stringMatching(/^applied \d{4}-\d\d-\d\dT.*Z\s+0005-sealed-webhook-secrets$/),
    ]);

    const down = await run("down");
    // One step: the newest migration only.
    expect(down).toMatchObject({ code: 0, out: [`pglite ${dir}: reverted 0005-sealed-webhook-secrets`] });
    const after = (await run("status")).out;
    expect(after[0]).toMatch(/^applied .*0001-tenancy$/);
    expect(after[1]).toMatch(/^applied .*0002-registry$/);
    expect(after[2]).toMatch(/^applied .*0003-billing$/);
    expect(after[3]).toMatch(/^applied .*0004-pipeline-claims$/);
    expect(after[4]).toMatch(/^pending\s+0005-sealed-webhook-secrets$/);
  });

  it("answers usage errors with exit code 2", async () => {
    const unknown = capture();
    expect(await runMigrateCli(["sideways", "--pglite", dir], {}, unknown.io)).toBe(2);
    expect(unknown.err.join("\n")).toMatch(/unknown command/);

    const noTarget = capture();
    expect(await runMigrateCli(["up"], {}, noTarget.io)).toBe(2);
    expect(noTarget.err.join("\n")).toMatch(/DATABASE_URL/);

    const badUrl = capture();
    expect(await runMigrateCli(["up"], { DATABASE_URL: "not a url" }, badUrl.io)).toBe(2);
    expect(badUrl.err.join("\n")).toMatch(/DATABASE_URL/);
  });

  it("fails with exit code 1 when the database cannot be reached", async () => {
    const c = capture();
    const code = await runMigrateCli(
      ["status"],
      { DATABASE_URL: "postgres://u:secret@127.0.0.1:1/none" },
      c.io,
    );
    expect(code).toBe(1);
    expect(c.err.join("\n")).toMatch(/127\.0\.0\.1:1/);
    expect(c.err.join("\n")).not.toMatch(/secret/);
  });
});
