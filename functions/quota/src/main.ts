import { loadEnvOrExit } from "@maas/config";
import { createLogger, depsFromEnv, runFunction } from "@maas/runtime";
import { Registry } from "prom-client";
import { createQuota } from "./app.js";
import { buildQuotaServices, quotaFunctionEnvSchema } from "./build-services.js";

// Parsed once at start: a bad env exits here, so the revision never becomes ready.
const env = loadEnvOrExit(quotaFunctionEnvSchema);
const deps = depsFromEnv("quota", env);
const registry = new Registry();
const logger = deps.logger ?? createLogger({ name: "quota" });
const built = buildQuotaServices(env, { logger, registry });
await runFunction(createQuota(built.services, { ...deps, registry, onShutdown: built.close }), env, {
  warmUp: built.warmUp,
});
