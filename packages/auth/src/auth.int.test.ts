import { defaultInfra } from "@maas/config";
import { createDb, createFreshDatabase } from "@maas/db";
import { describeAuth } from "./testing/auth-suite.js";

const { user, password, host, port, database } = defaultInfra.postgres;
const adminUrl = process.env.DATABASE_URL || `postgres://${user}:${password}@${host}:${port}/${database}`;

// Real PostgreSQL: a fresh maas_test_<random> database for this file, dropped afterwards.
describeAuth({
  name: "postgres",
  open: async () => {
    const fresh = await createFreshDatabase(adminUrl);
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
