// A minimal main.ts for the signal-handling test (run-function.process.test.ts): a real process, real
// SIGTERM, real exit code. `/slow?ms=N` stays in flight for N milliseconds.
import { loadEnvOrExit } from "@maas/config";
import { createFunction } from "../create-function.js";
import { depsFromEnv } from "../deps-from-env.js";
import { baseEnvSchema } from "../env.js";
import { runFunction } from "../run-function.js";

const env = loadEnvOrExit(baseEnvSchema);
const fn = createFunction({
  ...depsFromEnv("fixture", env),
  routes: (app) =>
    app.get("/slow", async (c) => {
      await new Promise((resolve) => setTimeout(resolve, Number(c.req.query("ms") ?? 300)));
      return c.text("slow done");
    }),
  onShutdown: async () => {
    process.stdout.write('{"msg":"onShutdown ran"}\n');
  },
});
await runFunction(fn, env);
