import { decodeTime } from "ulid";
import { describe, expect, it } from "vitest";
import { idSchema, newId, tenantIdSchema } from "./ids.js";

describe("newId", () => {
  it("is the prefix, an underscore and 26 lower-case Crockford base32 characters", () => {
    expect(newId("tnt")).toMatch(/^tnt_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(newId("evt")).toMatch(/^evt_/);
  });

  it("sorts by creation time, also within one millisecond", async () => {
    const burst = Array.from({ length: 1000 }, () => newId("evt"));
    expect([...burst].sort()).toEqual(burst);
    expect(new Set(burst).size).toBe(burst.length);
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(newId("evt") > burst.at(-1)!).toBe(true);
  });

  it("carries its creation time", () => {
    const before = Date.now();
    const id = newId("mdl");
    expect(decodeTime(id.slice("mdl_".length).toUpperCase())).toBeGreaterThanOrEqual(before);
    expect(decodeTime(id.slice("mdl_".length).toUpperCase())).toBeLessThanOrEqual(Date.now());
  });
});

describe("idSchema", () => {
  it("accepts ids of its prefix only", () => {
    expect(tenantIdSchema.safeParse(newId("tnt")).success).toBe(true);
    expect(tenantIdSchema.safeParse(newId("key")).success).toBe(false);
    expect(idSchema("key").safeParse(newId("key")).success).toBe(true);
  });

  it("rejects anything that could smuggle SQL or upper case", () => {
    for (const bad of ["tnt_", "tnt_ABC", "tnt_a'--", "tnt_a b", "xtnt_abc", `tnt_${"a".repeat(65)}`]) {
      expect(tenantIdSchema.safeParse(bad).success, bad).toBe(false);
    }
  });
});
