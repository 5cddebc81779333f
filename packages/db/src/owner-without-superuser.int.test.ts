import { randomBytes } from "node:crypto";
import { defaultInfra } from "@maas/config";
import { afterAll, beforeAll } from "vitest";
import { createDb } from "./create-db.js";
import { createFreshDatabase, withAdmin } from "./testing/fresh-database.js";
import { describeTenantIsolation } from "./testing/tenant-isolation-suite.js";

const { user, password, host, port, database } = defaultInfra.postgres;
const adminUrl = process.env.DATABASE_URL || `postgres://${user}:${password}@${host}:${port}/${database}`;

// Managed PostgreSQL (RDS, Cloud SQL …) gives the platform a CREATEROLE user that is not superuser:
// RLS then applies to the owner itself, and the migration must grant itself the two roles.
const owner = {
  user: `maas_owner_${randomBytes(4).toString("hex")}`,
  password: randomBytes(12).toString("hex"),
};

beforeAll(async () => {
  await withAdmin(adminUrl, async (client) => {
    await client.query(
      `create role "${owner.user}" login password '${owner.password}' nosuperuser createdb createrole nobypassrls`,
    );
    // On PostgreSQL 16+ CREATEROLE alone may not grant roles someone else created: an operator
    // grants them once (PostgreSQL 15 lets the migration do it, which this test then exercises).
    const { rows } = await client.query<{ v: number; n: number }>(
      `select current_setting('server_version_num')::int as v,
              (select count(*)::int from pg_roles where rolname in ('maas_app', 'maas_system')) as n`,
    );
    if ((rows[0]?.v ?? 0) >= 160000 && rows[0]?.n === 2) {
      await client.query(`grant maas_app, maas_system to "${owner.user}"`);
    }
  });
}, 60_000);

afterAll(async () => {
  await withAdmin(adminUrl, (client) => client.query(`drop role if exists "${owner.user}"`));
}, 60_000);

describeTenantIsolation({
  name: "postgres",
  variant: "owner is not superuser",
  open: async () => {
    const fresh = await createFreshDatabase(adminUrl, { owner });
    const handle = createDb({ url: fresh.url, poolMax: 4 });
    return {
      handle,
      dispose: async () => {
        await handle.close();
        await fresh.drop();
      },
    };
  },
});
