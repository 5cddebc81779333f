import { describe, expect, it } from "vitest";
import { z } from "zod";
import { catalog, getDefinition } from "./catalog.js";
import { defineEvent } from "./define-event.js";
import { events, knativePing } from "./events.js";

describe("catalog", () => {
  it("holds every DESIGN §3 type once, named io.maas.<noun>.<verb>.v1", () => {
    const types = Object.values(events).map((d) => d.type);
    expect(types.sort()).toEqual(
      [
        "io.maas.deployment.deleted.v1",
        "io.maas.deployment.failed.v1",
        "io.maas.deployment.ready.v1",
        "io.maas.deployment.requested.v1",
        "io.maas.inference.completed.v1",
        "io.maas.invoice.issued.v1",
        "io.maas.model.version.ready.v1",
        "io.maas.model.version.rejected.v1",
        "io.maas.model.version.uploaded.v1",
        "io.maas.quota.threshold.crossed.v1",
        "io.maas.tenant.created.v1",
      ].sort(),
    );
    expect(catalog.size).toBe(12);
    for (const t of types) expect(getDefinition(t)?.type).toBe(t);
  });

  it("routes usage to maas.usage and lifecycle to maas.events", () => {
    expect(events.inferenceCompleted.topic).toBe("maas.usage");
    const others = Object.values(events).filter((d) => d !== events.inferenceCompleted);
    expect(new Set(others.map((d) => d.topic))).toEqual(new Set(["maas.events"]));
  });

  it("accepts Knative PingSource ticks with JSON or text data", () => {
    expect(getDefinition("dev.knative.sources.ping")).toBe(knativePing);
    expect(knativePing.data.safeParse({ period: "monthly" }).success).toBe(true);
    expect(knativePing.data.safeParse("tick").success).toBe(true);
  });

  it("answers undefined for unknown types", () => {
    expect(getDefinition("io.maas.nope.v1")).toBeUndefined();
  });

  it("refuses a platform type whose name and version disagree or break the naming rule", () => {
    const data = z.object({});
    expect(() =>
      defineEvent({
        type: "io.maas.tenant.created.v2",
        version: 1,
        topic: "maas.events",
        data,
        description: "",
      }),
    ).toThrow(/does not end in .v1/);
    expect(() =>
      defineEvent({
        type: "io.maas.TenantCreated.v1",
        version: 1,
        topic: "maas.events",
        data,
        description: "",
      }),
    ).toThrow(/not io.maas/);
  });

  it("checks prefixed ids in data", () => {
    const r = events.tenantCreated.data.safeParse({
      tenantId: "acme",
      slug: "acme",
      name: "A",
      plan: "free",
    });
    expect(r.success).toBe(false);
  });
});
