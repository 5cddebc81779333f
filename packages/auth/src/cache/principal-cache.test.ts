import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { type CachedCredential, createMemoryPrincipalCache } from "./principal-cache.js";

const value: CachedCredential = { kind: "api_key", record: null };

describe("memory principal cache", () => {
  it("keeps an entry for its own TTL only", async () => {
    const cache = createMemoryPrincipalCache();
    await cache.set("short", value, 50);
    await cache.set("long", value, 10_000);
    expect(await cache.get("short")).toEqual(value);
    await sleep(80);
    expect(await cache.get("short")).toBeUndefined();
    expect(await cache.get("long")).toEqual(value);
  });

  it("stores nothing for a TTL of 0, and delete evicts", async () => {
    const cache = createMemoryPrincipalCache();
    await cache.set("zero", value, 0);
    expect(await cache.get("zero")).toBeUndefined();
    await cache.set("k", value, 10_000);
    await cache.delete("k");
    expect(await cache.get("k")).toBeUndefined();
  });

  it("is bounded: the least recently used entry goes first", async () => {
    const cache = createMemoryPrincipalCache({ max: 2 });
    await cache.set("a", value, 10_000);
    await cache.set("b", value, 10_000);
    await cache.get("a");
    await cache.set("c", value, 10_000);
    expect(await cache.get("a")).toEqual(value);
    expect(await cache.get("b")).toBeUndefined();
  });
});
