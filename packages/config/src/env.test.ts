import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EnvError, flag, optionalUrl, parseEnv, port } from "./env.js";

describe("parseEnv", () => {
  const schema = z.object({ PORT: port(8080), DEBUG: flag(false), DATABASE_URL: optionalUrl() });

  it("applies defaults and coerces", () => {
    expect(parseEnv(schema, { PORT: "9000", DEBUG: "1", DATABASE_URL: "" })).toEqual({
      PORT: 9000,
      DEBUG: true,
      DATABASE_URL: undefined,
    });
    expect(parseEnv(schema, {})).toEqual({ PORT: 8080, DEBUG: false, DATABASE_URL: undefined });
  });

  it("names every bad key", () => {
    try {
      parseEnv(schema, { PORT: "nope", DATABASE_URL: "not a url" });
      throw new Error("should have thrown");
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      expect((err as EnvError).issues.map((i) => i.key).sort()).toEqual(["DATABASE_URL", "PORT"]);
    }
  });
});
