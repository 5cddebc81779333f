import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` for child processes. */
  url: string;
  stop(): Promise<void>;
}

/**
 * One PGlite for the whole local platform, served over the Postgres wire protocol so every function
 * process can use it as DATABASE_URL. PGlite is a single session: pglite-socket's multiplexer queues
 * protocol messages and, while a transaction is open, runs only the owning connection's messages, so
 * concurrent clients cannot interleave transactions (checked in embedded-postgres.test.ts).
 *
 * @example
 * const pg = await startEmbeddedPostgres({ dataDir: ".local/pgdata" });
 * env.DATABASE_URL = pg.url;
 */
export async function startEmbeddedPostgres(
  opts: { dataDir?: string; host?: string; port?: number; maxConnections?: number } = {},
): Promise<EmbeddedPostgres> {
  if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true });
  const db = await PGlite.create(opts.dataDir ?? "memory://");
  const host = opts.host ?? "127.0.0.1";
  const server = new PGLiteSocketServer({
    db,
    host,
    port: opts.port ?? 0,
    maxConnections: opts.maxConnections ?? 100,
  });
  await server.start();
  // The server reports the OS-assigned port only through its `listening` event / private field.
  const port = (server as unknown as { port: number }).port;
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
