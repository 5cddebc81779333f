import { defaultInfra } from "@maas/config";
import { createDb, createFreshDatabase } from "@maas/db";
import { describeVersionStore } from "./version-store-suite.js";

const pg = defaultInfra.postgres;
const adminUrl =
  process.env.DATABASE_URL || `postgres://${pg.user}:${pg.password}@${pg.host}:${pg.port}/${pg.database}`;

describeVersionStore({
  name: "postgres",
  open: async () => {
    const fresh = await createFreshDatabase(adminUrl, { prefix: "maas_pipeline_claims" });
    const handle = createDb({ url: fresh.url });
    return {
      handle,
      dispose: async () => {
        await handle.close();
        await fresh.drop();
      },
    };
  },
});
