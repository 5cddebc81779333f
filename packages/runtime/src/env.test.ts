import { EnvError, parseEnv } from "@maas/config";
import { describe, expect, it } from "vitest";
import { baseEnvSchema } from "./env.js";

describe("baseEnvSchema", () => {
  it("defaults to Knative's conventions", () => {
    expect(parseEnv(baseEnvSchema, {})).toEqual({
      PORT: 8080,
      HOST: undefined,
      LOG_LEVEL: "info",
      K_SINK: undefined,
      FUNCTION_NAME: undefined,
      K_SERVICE: undefined,
      K_REVISION: undefined,
      SHUTDOWN_DRAIN_MS: 20_000,
    });
  });

  it("reads what the runner and Knative set; an empty K_SINK means none", () => {
    const env = parseEnv(baseEnvSchema, { PORT: "0", K_SINK: "", LOG_LEVEL: "debug", HOST: "127.0.0.1" });
    expect(env).toMatchObject({ PORT: 0, K_SINK: undefined, LOG_LEVEL: "debug", HOST: "127.0.0.1" });
    expect(parseEnv(baseEnvSchema, { K_SINK: "http://broker.local/default" }).K_SINK).toBe(
      "http://broker.local/default",
    );
  });

  it("names every bad key", () => {
    expect(() => parseEnv(baseEnvSchema, { PORT: "http", K_SINK: "not a url", LOG_LEVEL: "loud" })).toThrow(
      EnvError,
    );
    try {
      parseEnv(baseEnvSchema, { PORT: "http", K_SINK: "not a url", LOG_LEVEL: "loud" });
    } catch (err) {
      expect((err as EnvError).issues.map((i) => i.key).sort()).toEqual(["K_SINK", "LOG_LEVEL", "PORT"]);
    }
  });
});
