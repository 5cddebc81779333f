import { describe, expect, it } from "vitest";
import { checkModelCount, checkStorage, type TenantHoldings } from "./count-checks.js";
import { StaticQuotaSource } from "./quota-source.js";

const quotas = new StaticQuotaSource({ tnt_a: { maxModels: 3, maxStorageBytes: 1000n } });
const holdings = (models: number, bytes: bigint): TenantHoldings => ({
  modelCount: async () => models,
  storageBytes: async () => bytes,
});

describe("count checks", () => {
  it("allows up to the model limit and refuses past it with QUOTA_EXCEEDED", async () => {
    expect((await checkModelCount({ quotas, holdings: holdings(2, 0n) }, "tnt_a")).allowed).toBe(true);
    const over = await checkModelCount({ quotas, holdings: holdings(3, 0n) }, "tnt_a");
    if (over.allowed) throw new Error("expected a refusal");
    expect(over.error.code).toBe("QUOTA_EXCEEDED");
    expect(over.error.status).toBe(403);
    expect(over.error.details).toEqual({ limit: "models", value: "3", used: "3", requested: "1" });
  });

  it("checks storage including the bytes about to be added", async () => {
    expect((await checkStorage({ quotas, holdings: holdings(0, 400n) }, "tnt_a", 600n)).allowed).toBe(true);
    const over = await checkStorage({ quotas, holdings: holdings(0, 400n) }, "tnt_a", 601n);
    expect(over.allowed).toBe(false);
  });
});
