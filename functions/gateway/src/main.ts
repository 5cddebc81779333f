import { loadEnvOrExit } from "@maas/config";
import { createLogger, depsFromEnv, runFunction } from "@maas/runtime";
import { Registry } from "prom-client";
import { createGateway } from "./app.js";
import { buildGatewayServices } from "./build-services.js";
import { gatewayEnvSchema } from "./env.js";

// Parsed once at start: a bad env exits here, so the revision never becomes ready.
const env = loadEnvOrExit(gatewayEnvSchema);
const deps = depsFromEnv("gateway", env);
const registry = new Registry();
const logger = deps.logger ?? createLogger({ name: "gateway" });
const built = buildGatewayServices(env, { logger, registry });
const fn = createGateway(built.services, { ...deps, registry, onShutdown: built.close });
await runFunction(fn, env, { warmUp: built.warmUp });
