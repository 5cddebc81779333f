import { flag, loadEnvOrExit, optionalUrl } from "@maas/config";
import { createDb, migrateToLatest } from "@maas/db";
import { OutboxRelay } from "@maas/events/outbox";
import { LedgerSpendSink, type SpendSink } from "@maas/fn-metering/usage";
import { CachedQuotaSource, PostgresQuotaSource, SpendLedger } from "@maas/quota";
import { baseEnvSchema, depsFromEnv, runFunction } from "@maas/runtime";
import { Redis } from "ioredis";
import { z } from "zod";
import { createBilling } from "./app.js";

const billingEnvSchema = baseEnvSchema.extend({
  DATABASE_URL: optionalUrl(),
  PGLITE_DIR: z.string().min(1).optional(),
  MIGRATE: flag(false),
  /** Unset: the daily job reports totals without touching spend counters. */
  REDIS_URL: optionalUrl(),
  REDIS_KEY_PREFIX: z.string().default("maas:quota:"),
  BILLING_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default("EUR"),
  /** Relay the outbox (invoice.issued) from this process (local and embedded setups). */
  OUTBOX_RELAY: flag(false),
});

// Parsed once at start: a bad env exits here, so the revision never becomes ready.
const env = loadEnvOrExit(billingEnvSchema);
const deps = depsFromEnv("billing", env);
const database = createDb({
  ...(env.DATABASE_URL === undefined ? {} : { url: env.DATABASE_URL }),
  ...(env.PGLITE_DIR === undefined ? {} : { pglite: { dataDir: env.PGLITE_DIR } }),
});
if (env.MIGRATE || database.kind === "pglite") await migrateToLatest(database.db);

let redis: Redis | undefined;
let spend: SpendSink | undefined;
let relay: OutboxRelay | undefined;
if (env.REDIS_URL) {
  redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2 });
  spend = new LedgerSpendSink(
    new SpendLedger({
      redis,
      keyPrefix: env.REDIS_KEY_PREFIX,
      quotas: new CachedQuotaSource(new PostgresQuotaSource(database.db)),
      // Late-bound: the function (and its publisher) is built just below.
      publisher: { publish: (evs) => fn.publisher.publish(evs) },
      source: "/functions/billing",
    }),
  );
}
const fn = createBilling({
  ...deps,
  db: database.db,
  currency: env.BILLING_CURRENCY,
  ...(spend ? { spend } : {}),
  onShutdown: async () => {
    await relay?.stop();
    redis?.disconnect();
    await database.close();
  },
});
if (env.OUTBOX_RELAY) {
  relay = new OutboxRelay({ db: database.db, publisher: fn.publisher, logger: fn.logger });
  relay.start();
}
await runFunction(fn, env);
