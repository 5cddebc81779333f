import { authEnvSchema, authFromEnv } from "@maas/auth";
import { loadEnvOrExit } from "@maas/config";
import { createDb, migrateToLatest, SecretSealer } from "@maas/db";
import { OutboxRelay } from "@maas/events/outbox";
import { depsFromEnv, runFunction } from "@maas/runtime";
import { createObjectStore } from "@maas/storage";
import { createControl } from "./app.js";
import { controlEnvSchema } from "./env.js";
import { type CleanupSchedule, scheduleCleanup } from "./jobs/cleanup-schedule.js";

// Parsed once at start: a bad env exits here, so the revision never becomes ready.
const env = loadEnvOrExit(controlEnvSchema);
const authEnv = loadEnvOrExit(authEnvSchema);
const deps = depsFromEnv("control", env);

const database = createDb({
  ...(env.DATABASE_URL === undefined ? {} : { url: env.DATABASE_URL }),
  ...(env.PGLITE_DIR === undefined ? {} : { pglite: { dataDir: env.PGLITE_DIR } }),
});
// An embedded database starts empty; a real one is migrated by its own job unless MIGRATE is set.
if (env.MIGRATE || database.kind === "pglite") await migrateToLatest(database.db);
// The same variables controlEnvSchema just validated (the store parses its own part of them).
const store = createObjectStore(process.env);
const auth = authFromEnv(authEnv, database.db);
const clock = () => new Date();

let relay: OutboxRelay | undefined;
let cleanup: CleanupSchedule | undefined;
const fn = createControl({
  ...deps,
  db: database.db,
  store,
  auth,
  clock,
  publicUrl: env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`,
  secrets: SecretSealer.fromKey(env.SECRETS_KEY),
  uploads: {
    ttlSeconds: env.UPLOAD_TTL_S,
    presignSeconds: env.UPLOAD_PRESIGN_S,
    minPartSize: env.UPLOAD_MIN_PART_MIB * 1024 * 1024,
  },
  onShutdown: async () => {
    await cleanup?.stop();
    await relay?.stop();
    await auth.lastUsed.flush();
    await store.close();
    await database.close();
  },
});

if (env.SECRETS_KEY === undefined) {
  fn.logger.warn("SECRETS_KEY not set: webhook signing secrets are stored unencrypted");
}
if (env.OUTBOX_RELAY) {
  relay = new OutboxRelay({ db: database.db, publisher: fn.publisher, logger: fn.logger });
  relay.start();
}
if (env.UPLOAD_CLEANUP_INTERVAL_S > 0) {
  cleanup = scheduleCleanup({
    db: database.db,
    store,
    clock,
    intervalMs: env.UPLOAD_CLEANUP_INTERVAL_S * 1000,
    logger: fn.logger,
  });
}
await runFunction(fn, env);
