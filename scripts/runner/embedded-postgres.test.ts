import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.js";

let embedded: EmbeddedPostgres;
beforeAll(async () => {
  embedded = await startEmbeddedPostgres();
}, 60_000); // PGlite's start takes seconds, more on a loaded machine
afterAll(async () => {
  await embedded?.stop();
});

describe("embedded Postgres over pglite-socket", () => {
  it("keeps concurrent clients' transactions and parameterised queries apart", async () => {
    const setup = new pg.Client(embedded.url);
    await setup.connect();
    await setup.query("create table counters (id int primary key, v int not null)");
    await setup.query("insert into counters select g, 0 from generate_series(1, 5) g");
    const pool = new pg.Pool({ connectionString: embedded.url, max: 8 });
    // Read-modify-write without row locks: any interleaving of two transactions would lose an update.
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const c = await pool.connect();
        try {
          await c.query("begin");
          const id = (i % 5) + 1;
          const r = await c.query<{ v: number }>("select v from counters where id = $1", [id]);
          await c.query("update counters set v = $1 where id = $2", [r.rows[0]!.v + 1, id]);
          await c.query("commit");
        } finally {
          c.release();
        }
      }),
    );
    const echoes = await Promise.all(
      Array.from(
        { length: 100 },
        async (_, i) => (await pool.query<{ x: number }>("select $1::int as x", [i])).rows[0]!.x,
      ),
    );
    const sum = await setup.query<{ s: number }>("select sum(v)::int as s from counters");
    await pool.end();
    await setup.end();
    expect(sum.rows[0]!.s).toBe(100);
    expect(echoes).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
