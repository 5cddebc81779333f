import { defaultInfra } from "@maas/config";
import { createDb } from "./create-db.js";
import { createFreshDatabase } from "./testing/fresh-database.js";
import { describeTenantIsolation } from "./testing/tenant-isolation-suite.js";

const { user, password, host, port, database } = defaultInfra.postgres;
const adminUrl = process.env.DATABASE_URL || `postgres://${user}:${password}@${host}:${port}/${database}`;

// Real PostgreSQL: every open() is a new maas_test_<random> database, dropped afterwards.
describeTenantIsolation({
  name: "postgres",
  open: async () => {
    const fresh = await createFreshDatabase(adminUrl);
    // Several connections, so concurrent tenant transactions really run side by side.
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
