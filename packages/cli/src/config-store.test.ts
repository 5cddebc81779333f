import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configDir, readConfigFile, resolveConfig, writeConfigFile } from "./config-store.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "maas-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("config store", () => {
  it("lives under XDG_CONFIG_HOME, else ~/.config", () => {
    expect(configDir({ XDG_CONFIG_HOME: "/x" })).toBe("/x/maas");
    expect(configDir({})).toBe(path.join(homedir(), ".config", "maas"));
  });

  it("writes mode 0600 in a 0700 folder and reads it back", async () => {
    const d = path.join(dir, "maas");
    const file = await writeConfigFile(d, { endpoint: "http://127.0.0.1:8080", apiKey: "k1" });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(d)).mode & 0o777).toBe(0o700);
    expect(await readConfigFile(d)).toEqual({ endpoint: "http://127.0.0.1:8080", apiKey: "k1" });
    // Overwriting keeps 0600.
    await writeConfigFile(d, { endpoint: "http://h:1", apiKey: "k2" });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8")).apiKey).toBe("k2");
  });

  it("no file is null; a corrupt one is an error that says what to do", async () => {
    expect(await readConfigFile(path.join(dir, "none"))).toBeNull();
    await writeFile(path.join(dir, "config.json"), "{not json");
    await expect(readConfigFile(dir)).rejects.toThrow(/run maas login again/);
  });

  it("flags beat env, env beats the saved login", () => {
    const saved = { endpoint: "http://saved", apiKey: "saved" };
    expect(resolveConfig(saved, {})).toEqual(saved);
    expect(resolveConfig(saved, { MAAS_ENDPOINT: "http://env/", MAAS_API_KEY: "env" })).toEqual({
      endpoint: "http://env",
      apiKey: "env",
    });
    expect(resolveConfig(saved, { MAAS_API_KEY: "env" }, { apiKey: "flag" })).toEqual({
      endpoint: "http://saved",
      apiKey: "flag",
    });
    expect(() => resolveConfig(null, {})).toThrow(/run maas login/);
    expect(() => resolveConfig(null, { MAAS_ENDPOINT: "not a url", MAAS_API_KEY: "k" })).toThrow(
      /invalid endpoint/,
    );
  });
});
