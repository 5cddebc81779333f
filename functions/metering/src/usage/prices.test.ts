import { describe, expect, it } from "vitest";
import { periodEnd, periodOfDate, periodStart, previousPeriod } from "./period.js";
import { costMicros, PriceBook, type PriceRow } from "./prices.js";

const row = (p: Partial<PriceRow>): PriceRow => ({
  plan: "default",
  tenantId: null,
  device: "cpu",
  currency: "EUR",
  per1kInferencesMicros: 50_000n,
  perComputeSecondMicros: 10_000n,
  validFrom: new Date(0),
  ...p,
});

describe("costMicros", () => {
  it("prices items per 1,000 and compute per second, rounding half up once", () => {
    const price = { per1kInferencesMicros: 50_000n, perComputeSecondMicros: 10_000n };
    expect(costMicros(1, 12, price)).toBe(170n); // 50 + 120
    expect(costMicros(1000, 1000, price)).toBe(60_000n);
    // 0.5 micro rounds up, 0.499 down
    expect(costMicros(1, 0, { per1kInferencesMicros: 500n, perComputeSecondMicros: 0n })).toBe(1n);
    expect(costMicros(1, 0, { per1kInferencesMicros: 499n, perComputeSecondMicros: 0n })).toBe(0n);
    expect(costMicros(0, 0, price)).toBe(0n);
  });

  it("stays exact for amounts beyond 2^53", () => {
    const price = { per1kInferencesMicros: 9_007_199_254_740_993n, perComputeSecondMicros: 0n };
    expect(costMicros(1000, 0, price)).toBe(9_007_199_254_740_993n);
  });
});

describe("PriceBook", () => {
  const rows = [
    row({ device: "cpu" }),
    row({ device: "gpu", per1kInferencesMicros: 200_000n }),
    row({ plan: "pro", device: "cpu", per1kInferencesMicros: 40_000n }),
    row({
      plan: "pro",
      device: "cpu",
      per1kInferencesMicros: 30_000n,
      validFrom: new Date("2026-03-01T00:00:00Z"),
    }),
    row({ plan: null, tenantId: "tnt_vip", device: "cpu", per1kInferencesMicros: 1_000n }),
  ];
  const book = new PriceBook(rows);
  const at = new Date("2026-02-10T00:00:00Z");

  it("prefers the tenant override, then the plan, then the default plan", () => {
    expect(
      book.priceFor({ tenantId: "tnt_vip", plan: "pro", device: "cpu", at })?.per1kInferencesMicros,
    ).toBe(1_000n);
    expect(book.priceFor({ tenantId: "tnt_x", plan: "pro", device: "cpu", at })?.per1kInferencesMicros).toBe(
      40_000n,
    );
    expect(book.priceFor({ tenantId: "tnt_x", plan: "pro", device: "gpu", at })?.per1kInferencesMicros).toBe(
      200_000n,
    );
    expect(book.priceFor({ tenantId: "tnt_x", plan: "free", device: "cpu", at })?.per1kInferencesMicros).toBe(
      50_000n,
    );
  });

  it("uses the row in force at the event's time, not the newest", () => {
    const march = new Date("2026-03-02T00:00:00Z");
    expect(
      book.priceFor({ tenantId: "tnt_x", plan: "pro", device: "cpu", at: march })?.per1kInferencesMicros,
    ).toBe(30_000n);
  });
});

describe("periods", () => {
  it("are UTC months", () => {
    expect(periodOfDate(new Date("2026-01-31T23:59:59.999Z"))).toBe("2026-01");
    expect(periodOfDate(new Date("2026-02-01T00:00:00.000Z"))).toBe("2026-02");
    expect(periodStart("2026-12").toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(periodEnd("2026-12").toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(previousPeriod("2026-01")).toBe("2025-12");
  });
});
