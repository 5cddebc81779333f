import { parseEnv } from "@maas/config";
import { describe, expect, it } from "vitest";
import { depsFromEnv } from "./deps-from-env.js";
import { baseEnvSchema } from "./env.js";

describe("depsFromEnv", () => {
  it("carries name, log level, sink and drain bound from the env", () => {
    const env = parseEnv(baseEnvSchema, {
      FUNCTION_NAME: "billing-eu",
      LOG_LEVEL: "warn",
      K_SINK: "http://broker/default",
      SHUTDOWN_DRAIN_MS: "1500",
    });
    const deps = depsFromEnv("billing", env);
    expect(deps).toMatchObject({ name: "billing-eu", sink: "http://broker/default", drainTimeoutMs: 1500 });
    expect(deps.logger?.level).toBe("warn");
  });

  it("falls back to the function's own name", () => {
    expect(depsFromEnv("billing", parseEnv(baseEnvSchema, {})).name).toBe("billing");
  });
});
