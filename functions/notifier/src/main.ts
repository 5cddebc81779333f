import { flag, loadEnvOrExit, optionalUrl } from "@maas/config";
import { createDb, migrateToLatest, SecretSealer, secretsEnvSchema } from "@maas/db";
import { baseEnvSchema, depsFromEnv, runFunction } from "@maas/runtime";
import { Registry } from "prom-client";
import { z } from "zod";
import { createNotifier } from "./app.js";
import { WebhookDispatcher } from "./webhooks/webhook-dispatcher.js";
import { createWebhookMetrics } from "./webhooks/webhook-metrics.js";

const notifierEnvSchema = baseEnvSchema.extend(secretsEnvSchema.shape).extend({
  DATABASE_URL: optionalUrl(),
  PGLITE_DIR: z.string().min(1).optional(),
  MIGRATE: flag(false),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(8),
  WEBHOOK_BASE_DELAY_MS: z.coerce.number().int().min(10).default(30_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** How often the retry loop looks for due deliveries. */
  WEBHOOK_POLL_MS: z.coerce.number().int().min(50).default(1_000),
});

// Parsed once at start: a bad env exits here, so the revision never becomes ready.
const env = loadEnvOrExit(notifierEnvSchema);
const deps = depsFromEnv("notifier", env);
const database = createDb({
  ...(env.DATABASE_URL === undefined ? {} : { url: env.DATABASE_URL }),
  ...(env.PGLITE_DIR === undefined ? {} : { pglite: { dataDir: env.PGLITE_DIR } }),
});
if (env.MIGRATE || database.kind === "pglite") await migrateToLatest(database.db);

// One registry for the dispatchers' metrics and the runtime's (served on /metrics); both dispatchers
// share the counter.
const registry = new Registry();
const metrics = createWebhookMetrics(registry);
const secrets = SecretSealer.fromKey(env.SECRETS_KEY);
let timer: NodeJS.Timeout | undefined;
let running: Promise<unknown> | undefined;
const fn = createNotifier({
  ...deps,
  registry,
  dispatcher: new WebhookDispatcher({
    db: database.db,
    metrics,
    secrets,
    maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
    baseDelayMs: env.WEBHOOK_BASE_DELAY_MS,
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
  }),
  onShutdown: async () => {
    if (timer) clearInterval(timer);
    await running;
    await database.close();
  },
});
const retryLoop = new WebhookDispatcher({
  db: database.db,
  maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
  baseDelayMs: env.WEBHOOK_BASE_DELAY_MS,
  timeoutMs: env.WEBHOOK_TIMEOUT_MS,
  logger: fn.logger,
  metrics,
  secrets,
});
if (env.SECRETS_KEY === undefined) {
  fn.logger.warn("SECRETS_KEY not set: only unsealed webhook secrets can be signed with");
}
await runFunction(fn, env, {
  warmUp: async () => {
    // The retry loop: persisted next_attempt_at, so retries survive restarts and any replica may send.
    timer = setInterval(() => {
      if (running) return;
      running = retryLoop
        .runDue()
        .catch((err: unknown) => fn.logger.error({ err }, "webhook retry loop failed"))
        .finally(() => {
          running = undefined;
        });
    }, env.WEBHOOK_POLL_MS);
  },
});
