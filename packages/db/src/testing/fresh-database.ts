import { randomBytes } from "node:crypto";
import pg from "pg";

export interface FreshDatabase {
  /** Connection URL of the new database (same server and credentials as the admin URL). */
  url: string;
  name: string;
  /** Drops the database, disconnecting anyone still on it. */
  drop(): Promise<void>;
}

/**
 * Creates an empty, uniquely named database on the server of `adminUrl`, so an integration test
 * file runs isolated from every other (and from the developer's own data). Needs CREATEDB. With
 * `owner`, the database belongs to that (existing) role and the returned URL logs in as it.
 *
 * @example
 * const fresh = await createFreshDatabase(process.env.DATABASE_URL ?? localUrl);
 * afterAll(() => fresh.drop());
 */
export async function createFreshDatabase(
  adminUrl: string,
  options: { prefix?: string; owner?: { user: string; password: string } } = {},
): Promise<FreshDatabase> {
  const prefix = options.prefix ?? "maas_test";
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`bad database name prefix: ${prefix}`);
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const owner = options.owner;
  if (owner !== undefined && !/^[a-z_][a-z0-9_]*$/.test(owner.user))
    throw new Error(`bad owner: ${owner.user}`);
  await withAdmin(adminUrl, (client) =>
    client.query(`create database "${name}"${owner === undefined ? "" : ` owner "${owner.user}"`}`),
  );
  const url = new URL(adminUrl);
  if (owner !== undefined) {
    url.username = owner.user;
    url.password = owner.password;
  }
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await withAdmin(adminUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

/** Runs `fn` with one short-lived client on `adminUrl`. */
export async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
