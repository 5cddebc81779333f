import { describe, expect, it } from "vitest";
import { LocalBacklog } from "./local-backlog.js";

describe("LocalBacklog", () => {
  it("groups admissions per tenant: recent windows counted, live unreleased leases kept", () => {
    const b = new LocalBacklog();
    const now = 10_500;
    b.add({ tenantId: "tnt_a", leaseId: "l1", at: 10_100, expiresAt: 40_000, released: false });
    b.add({ tenantId: "tnt_a", leaseId: "l2", at: 9_900, expiresAt: 39_000, released: false });
    b.add({ tenantId: "tnt_a", leaseId: "l3", at: 10_200, expiresAt: 40_000, released: false });
    b.released("l3");
    // Window 7 is out of the sliding window's reach and its lease expired: nothing to tell.
    b.add({ tenantId: "tnt_a", leaseId: "old", at: 7_000, expiresAt: 9_000, released: false });
    b.add({ tenantId: "tnt_b", leaseId: "l4", at: 10_400, expiresAt: 40_000, released: false });
    const syncs = b.drain(now, 1000);
    const a = syncs.find((s) => s.tenantId === "tnt_a");
    expect(a?.windows).toEqual(
      new Map([
        [10, 2],
        [9, 1],
      ]),
    );
    expect([...(a?.leases.keys() ?? [])].sort()).toEqual(["l1", "l2"]);
    expect(syncs.find((s) => s.tenantId === "tnt_b")?.windows).toEqual(new Map([[10, 1]]));
    expect(b.size).toBe(0);
    expect(b.drain(now, 1000)).toEqual([]);
  });

  it("is bounded: past max the oldest admissions go", () => {
    const b = new LocalBacklog(2);
    for (const id of ["l1", "l2", "l3"])
      b.add({ tenantId: "t", leaseId: id, at: 0, expiresAt: 99, released: false });
    expect(b.size).toBe(2);
    expect([...(b.drain(0, 1000)[0]?.leases.keys() ?? [])]).toEqual(["l2", "l3"]);
  });
});
