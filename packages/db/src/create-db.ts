import { PGlite } from "@electric-sql/pglite";
import { Kysely, PGliteDialect, PostgresDialect } from "kysely";
import pg from "pg";
import { z } from "zod";
import type { Database } from "./database.js";

const INT8_OID = 20;

export const dbConfigSchema = z.object({
  /** A postgres:// URL: use that server through a pg Pool. Absent: an embedded PGlite. */
  url: z.string().url().optional(),
  pglite: z
    .object({
      /** Where PGlite keeps its files; absent = in memory (gone when closed). */
      dataDir: z.string().min(1).optional(),
    })
    .optional(),
  /** Most pooled connections (Postgres only). */
  poolMax: z.number().int().min(1).max(1000).optional(),
});

export type DbConfig = z.input<typeof dbConfigSchema>;

export interface DbHandle {
  db: Kysely<Database>;
  kind: "postgres" | "pglite";
  /** Ends the pool or closes PGlite; idempotent. */
  close(): Promise<void>;
}

export interface DbOptions {
  /**
   * Errors of idle pooled connections (a server restart, a killed backend). pg emits them on the
   * pool, where an unhandled 'error' event would crash the process; the pool drops the broken
   * client itself. Default: one line on stderr.
   */
  onPoolError?: (error: Error) => void;
}

/**
 * Opens the platform database: a real PostgreSQL when `url` is set, otherwise an embedded PGlite.
 * Lazy: nothing connects until the first query.
 *
 * On PGlite, kysely's own `PGliteDialect` is used on purpose: its adapter declares a single
 * connection, so kysely's runtime driver holds a mutex from acquire to release. A transaction owns
 * PGlite's one session until it ends and a query outside it waits, so a tenant scope can never leak
 * into another caller's query (kysely-pglite 0.6.1 sent BEGIN/COMMIT unlocked and did leak).
 * `tenant-isolation-suite.ts` keeps a concurrent-tenant test proving it.
 *
 * int8 columns come back as JS `bigint` on both engines (pg would give strings).
 *
 * @example
 * const { db, close } = createDb({ url: process.env.DATABASE_URL });
 * const tenants = await withSystem(db, (trx) => trx.selectFrom("tenants").selectAll().execute());
 * await close();
 */
export function createDb(config: DbConfig = {}, options: DbOptions = {}): DbHandle {
  const { url, pglite, poolMax } = dbConfigSchema.parse(config);
  if (url !== undefined) {
    const pool = new pg.Pool({
      connectionString: url,
      max: poolMax ?? 10,
      types: {
        getTypeParser: ((oid: number, format?: "text" | "binary") =>
          oid === INT8_OID && format !== "binary"
            ? (value: string) => BigInt(value)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    pool.on(
      "error",
      options.onPoolError ??
        ((error) => process.stderr.write(`db pool: idle client error: ${error.message}\n`)),
    );
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: "postgres", close: once(() => db.destroy()) };
  }
  // PGlite gives int8 as a number when it fits a double and as a bigint otherwise: always bigint.
  const parsers = { [INT8_OID]: (value: string) => BigInt(value) };
  const instance = new PGlite({
    ...(pglite?.dataDir === undefined ? {} : { dataDir: pglite.dataDir }),
    parsers,
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite: instance }) });
  return { db, kind: "pglite", close: once(() => db.destroy()) };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= fn();
    return done;
  };
}
