import type { Migration, MigrationProvider } from "kysely/migration";
import * as m0001 from "./0001-tenancy.js";
import * as m0002 from "./0002-registry.js";
import * as m0003 from "./0003-billing.js";
import * as m0004 from "./0004-pipeline-claims.js";
import * as m0005 from "./0005-sealed-webhook-secrets.js";

/**
 * Every migration, in order, listed explicitly (no directory scan: bundlers and `tsx` agree on an
 * import list, not on a folder's contents). Names sort in the order they run; never rename one.
 */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  "0001-tenancy": m0001,
  "0002-registry": m0002,
  "0003-billing": m0003,
  "0004-pipeline-claims": m0004,
  "0005-sealed-webhook-secrets": m0005,
});

/**
 * The provider the Migrator reads.
 *
 * @example
 * new Migrator({ db, provider: migrationProvider });
 */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};
