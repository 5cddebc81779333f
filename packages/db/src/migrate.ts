import type { Kysely } from "kysely";
import { type MigrationResult, Migrator } from "kysely/migration";
import type { Database } from "./database.js";
import { migrationProvider } from "./migrations/index.js";

export interface MigrationOutcome {
  /** Each migration attempted in this run, in order. */
  results: MigrationResult[];
}

export interface MigrationState {
  name: string;
  executedAt: Date | undefined;
}

/**
 * The platform's migrator: kysely's Migrator over the explicit list in `migrations/index.ts`.
 * Each run holds kysely's migration lock, so two processes migrating at once take turns.
 *
 * @example
 * await createMigrator(db).migrateToLatest();
 */
export function createMigrator(db: Kysely<Database>): Migrator {
  // Migrations are written against no table types (they create them).
  return new Migrator({ db: db as Kysely<unknown>, provider: migrationProvider });
}

/**
 * Applies every pending migration; throws the first failure (after kysely rolled it back).
 *
 * @example
 * await migrateToLatest(db);
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationOutcome> {
  return unwrap(await createMigrator(db).migrateToLatest());
}

/** Reverts the most recent migration (one step). */
export async function migrateDown(db: Kysely<Database>): Promise<MigrationOutcome> {
  return unwrap(await createMigrator(db).migrateDown());
}

/** Every known migration and when it ran (undefined = pending). */
export async function migrationStatus(db: Kysely<Database>): Promise<MigrationState[]> {
  const infos = await createMigrator(db).getMigrations();
  return infos.map((info) => ({ name: info.name, executedAt: info.executedAt }));
}

function unwrap(resultSet: { error?: unknown; results?: MigrationResult[] }): MigrationOutcome {
  if (resultSet.error !== undefined) {
    const failed = resultSet.results?.find((r) => r.status === "Error")?.migrationName;
    throw new Error(`migration ${failed ?? "run"} failed: ${describe(resultSet.error)}`, {
      cause: resultSet.error,
    });
  }
  return { results: resultSet.results ?? [] };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
