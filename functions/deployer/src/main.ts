import { loadEnvOrExit } from "@maas/config";
import { baseEnvSchema, depsFromEnv, runFunction } from "@maas/runtime";
import { createDeployer } from "./app.js";

// Parsed once at start: a bad env exits here, so the revision never becomes ready.
const env = loadEnvOrExit(baseEnvSchema);
await runFunction(createDeployer(depsFromEnv("deployer", env)), env);
