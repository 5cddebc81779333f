import { parseArgs } from "node:util";
import { optionalUrl, parseEnv } from "@maas/config";
import { z } from "zod";
import { createDb } from "./create-db.js";
import { migrateDown, migrateToLatest, migrationStatus } from "./migrate.js";

const USAGE = `usage: pnpm migrate [up|down|status] [--pglite <dir>]
  up      apply every pending migration (default)
  down    revert the most recent migration
  status  list migrations and when each ran
Target: DATABASE_URL, or --pglite <dir> for an embedded PGlite data directory.`;

const envSchema = z.object({ DATABASE_URL: optionalUrl() });
const commandSchema = z.enum(["up", "down", "status"]);

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * The migration command behind `pnpm migrate`; returns the exit code (0 ok, 1 failed, 2 usage).
 *
 * @example
 * process.exitCode = await runMigrateCli(process.argv.slice(2), process.env, io);
 */
export async function runMigrateCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let command: z.infer<typeof commandSchema>;
  let dataDir: string | undefined;
  let url: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { pglite: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (positionals.length > 1) throw new Error(`one command expected, got ${positionals.join(" ")}`);
    command = commandSchema.parse(positionals[0] ?? "up");
    dataDir = values.pglite;
    url = dataDir === undefined ? parseEnv(envSchema, env).DATABASE_URL : undefined;
  } catch (error) {
    io.err(`${error instanceof z.ZodError ? "unknown command" : (error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (url === undefined && dataDir === undefined) {
    io.err(`set DATABASE_URL or pass --pglite <dir>\n${USAGE}`);
    return 2;
  }

  const handle = createDb(url === undefined ? { pglite: { dataDir } } : { url, poolMax: 1 });
  const target = url === undefined ? `pglite ${dataDir}` : redact(url);
  try {
    if (command === "status") {
      for (const m of await migrationStatus(handle.db)) {
        io.out(`${m.executedAt ? `applied ${m.executedAt.toISOString()}` : "pending".padEnd(32)}  ${m.name}`);
      }
      return 0;
    }
    const { results } = command === "up" ? await migrateToLatest(handle.db) : await migrateDown(handle.db);
    if (results.length === 0) io.out(`${target}: nothing to do`);
    for (const r of results)
      io.out(`${target}: ${r.direction === "Up" ? "applied" : "reverted"} ${r.migrationName}`);
    return 0;
  } catch (error) {
    io.err(`${target}: ${(error as Error).message}`);
    return 1;
  } finally {
    await handle.close();
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}
