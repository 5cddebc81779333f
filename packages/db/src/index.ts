export { createDb, type DbConfig, type DbHandle, type DbOptions, dbConfigSchema } from "./create-db.js";
export * from "./database.js";
export { ID_PREFIXES, type IdPrefix, idSchema, newId, tenantIdSchema } from "./ids.js";
export {
  createMigrator,
  type MigrationOutcome,
  type MigrationState,
  migrateDown,
  migrateToLatest,
  migrationStatus,
} from "./migrate.js";
export { type CliIo, runMigrateCli } from "./migrate-cli.js";
export { migrationProvider, migrations } from "./migrations/index.js";
export { DB_ROLES, TENANT_SETTING } from "./roles.js";
export { type ScopedWork, withSystem, withTenant } from "./scoped-transaction.js";
export { SecretSealer, secretsEnvSchema, secretsKeySchema } from "./secrets/secret-sealer.js";
export { createFreshDatabase, type FreshDatabase, withAdmin } from "./testing/fresh-database.js";
