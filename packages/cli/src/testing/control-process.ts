// The real control function as its own process, wired from the environment, for the CLI's
// integration tests and bench/upload.ts (which samples this process's peak RSS). It exists because
// functions/control/src/main.ts is still being written; once it reads DATABASE_URL and S3_* itself,
// the harness can spawn that instead.
//   DATABASE_URL=… S3_ENDPOINT=… PORT=… PUBLIC_URL=… node --import tsx packages/cli/src/testing/control-process.ts
import { authEnvSchema, authFromEnv } from "@maas/auth";
import { parseEnv, port } from "@maas/config";
import { createDb } from "@maas/db";
import { createControl } from "@maas/fn-control";
import { createLogger, runFunction } from "@maas/runtime";
import { createObjectStore } from "@maas/storage";
import { z } from "zod";

const env = parseEnv(
  z.object({
    DATABASE_URL: z.url(),
    PORT: port(8081),
    PUBLIC_URL: z.url(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("warn"),
  }),
);
const { db, close } = createDb({ url: env.DATABASE_URL });
const store = createObjectStore(process.env);
const auth = authFromEnv(authEnvSchema.parse(process.env), db);
const fn = createControl({
  db,
  store,
  auth,
  publicUrl: env.PUBLIC_URL,
  logger: createLogger({ name: "control", level: env.LOG_LEVEL }),
  onShutdown: async () => {
    await store.close();
    await close();
  },
});
await runFunction(fn, { PORT: env.PORT, HOST: "127.0.0.1" });
