import { loadEnvOrExit } from "@maas/config";
import { createDb, migrateToLatest } from "@maas/db";
import type { EventPublisher } from "@maas/events";
import { createKafka, KafkaPublisher } from "@maas/events/kafka";
import { OutboxRelay } from "@maas/events/outbox";
import { defaultPublisher, depsFromEnv, runFunction } from "@maas/runtime";
import { createObjectStore } from "@maas/storage";
import { createPipeline } from "./app.js";
import { pipelineEnvSchema } from "./env.js";
import { type PipelineServices, resolveServices } from "./services.js";
import { type StaleClaimSweep, scheduleStaleClaimSweep } from "./sweep/stale-claim-sweep.js";

// Parsed once at start: a bad env exits here, so the revision never becomes ready.
const env = loadEnvOrExit(pipelineEnvSchema);
const deps = depsFromEnv("pipeline", env);
const { db, close } = createDb(
  env.DATABASE_URL
    ? { url: env.DATABASE_URL }
    : env.PGLITE_DIR
      ? { pglite: { dataDir: env.PGLITE_DIR } }
      : {},
);
// The storage keys were checked by pipelineEnvSchema above; createObjectStore reads the same ones.
const store = createObjectStore(process.env);

let relay: OutboxRelay | undefined;
let relayPublisher: EventPublisher | undefined;
if (env.OUTBOX_RELAY) {
  relayPublisher = env.KAFKA_BROKERS
    ? new KafkaPublisher({ kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: deps.name }) })
    : defaultPublisher({ functionName: deps.name, sink: env.K_SINK });
  relay = new OutboxRelay({ db, publisher: relayPublisher, logger: deps.logger });
}

const services: PipelineServices = {
  db,
  store,
  maxModelBytes: env.PIPELINE_MAX_MODEL_BYTES,
  maxConcurrent: env.PIPELINE_CONCURRENCY,
  processTimeoutMs: env.PIPELINE_TIMEOUT_MS,
  maxValidationAttempts: env.PIPELINE_MAX_ATTEMPTS,
  ...(env.PIPELINE_STALE_CLAIM_MS ? { staleClaimMs: env.PIPELINE_STALE_CLAIM_MS } : {}),
  ...(relay ? { onCommitted: () => relay?.wake() } : {}),
};
let sweep: StaleClaimSweep | undefined;

const fn = createPipeline(
  {
    ...deps,
    onShutdown: async () => {
      await sweep?.stop();
      await relay?.stop();
      await relayPublisher?.close?.();
      await store.close();
      await close();
    },
  },
  services,
);
await runFunction(fn, env, {
  warmUp: async () => {
    // An embedded PGlite starts empty (or at an older schema); a real Postgres is migrated by `pnpm migrate`.
    if (!env.DATABASE_URL) await migrateToLatest(db);
    relay?.start();
    if (env.PIPELINE_SWEEP_INTERVAL_MS > 0) {
      const resolved = resolveServices(services);
      sweep = scheduleStaleClaimSweep({
        db,
        store,
        logger: fn.logger,
        intervalMs: env.PIPELINE_SWEEP_INTERVAL_MS,
        staleAfterMs: resolved.staleClaimMs,
        maxAttempts: resolved.maxValidationAttempts,
        source: resolved.source,
        limit: 100,
        ...(services.onCommitted ? { onCommitted: services.onCommitted } : {}),
      });
    }
  },
});
