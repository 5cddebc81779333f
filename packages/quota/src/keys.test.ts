import { describe, expect, it } from "vitest";
import { periodOf, quotaKeys, secondsToNextPeriod } from "./keys.js";

describe("periods", () => {
  it("is the UTC month, whatever the local zone", () => {
    expect(periodOf(Date.UTC(2026, 0, 31, 23, 59, 59))).toBe("2026-01");
    expect(periodOf(Date.UTC(2026, 11, 1))).toBe("2026-12");
  });

  it("counts whole seconds to the next month, at least one", () => {
    expect(secondsToNextPeriod(Date.UTC(2026, 11, 31, 23, 59, 0))).toBe(60);
    expect(secondsToNextPeriod(Date.UTC(2027, 0, 1) - 1)).toBe(1);
  });
});

describe("quotaKeys", () => {
  it("puts every key of a tenant on one hash slot and matches the library's rate keys", () => {
    const k = quotaKeys("p:");
    expect(k.leases("tnt_1")).toBe("p:lease:{tnt_1}");
    expect(k.spend("tnt_1", "2026-05")).toBe("p:spend:{tnt_1}:2026-05");
    // @upstash/ratelimit builds `${prefix}:${identifier}:${window}`.
    expect(k.rateWindow("tnt_1", 42)).toBe(`${k.ratePrefix}:${k.rateIdentifier("tnt_1")}:42`);
  });
});
