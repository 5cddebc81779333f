import { createEvent, events, type MaasEvent } from "@maas/events";
import { describe, expect, it } from "vitest";
import { matchesTrigger, parseTriggerFilter } from "./trigger-filter.js";

const event: MaasEvent = createEvent(events.tenantCreated, {
  source: "/functions/control",
  subject: "tenants/acme",
  data: { tenantId: "tnt_acme", slug: "acme", name: "Acme", plan: "free" },
});

describe("matchesTrigger: filter.attributes", () => {
  it("matches exact context attributes and extensions", () => {
    expect(matchesTrigger({ filter: { attributes: { type: "io.maas.tenant.created.v1" } } }, event)).toBe(
      true,
    );
    expect(
      matchesTrigger(
        { filter: { attributes: { tenantid: "tnt_acme", source: "/functions/control" } } },
        event,
      ),
    ).toBe(true);
    expect(matchesTrigger({ filter: { attributes: { type: "io.maas.tenant.created" } } }, event)).toBe(false);
    expect(matchesTrigger({ filter: { attributes: { tenantid: "tnt_other" } } }, event)).toBe(false);
    expect(matchesTrigger({ filter: { attributes: { missingext: "x" } } }, event)).toBe(false);
  });

  it("treats an empty value as any, and no filter as match-all", () => {
    expect(matchesTrigger({ filter: { attributes: { type: "" } } }, event)).toBe(true);
    expect(matchesTrigger({}, event)).toBe(true);
  });
});

describe("matchesTrigger: filters dialect", () => {
  it("exact, prefix, suffix", () => {
    expect(matchesTrigger({ filters: [{ exact: { type: "io.maas.tenant.created.v1" } }] }, event)).toBe(true);
    expect(matchesTrigger({ filters: [{ prefix: { type: "io.maas.tenant." } }] }, event)).toBe(true);
    expect(matchesTrigger({ filters: [{ prefix: { type: "io.maas.deployment." } }] }, event)).toBe(false);
    expect(matchesTrigger({ filters: [{ suffix: { subject: "/acme" } }] }, event)).toBe(true);
    expect(matchesTrigger({ filters: [{ suffix: { subject: "/other" } }] }, event)).toBe(false);
  });

  it("all, any, not and nesting; every top-level expression must hold", () => {
    const anyOf = { any: [{ exact: { type: "nope" } }, { prefix: { tenantid: "tnt_" } }] };
    expect(matchesTrigger({ filters: [anyOf] }, event)).toBe(true);
    expect(
      matchesTrigger({ filters: [{ all: [anyOf, { not: { exact: { subject: "tenants/acme" } } }] }] }, event),
    ).toBe(false);
    expect(matchesTrigger({ filters: [{ not: { prefix: { type: "io.maas.invoice." } } }] }, event)).toBe(
      true,
    );
    expect(matchesTrigger({ filters: [anyOf, { exact: { type: "nope" } }] }, event)).toBe(false);
  });

  it("wins over filter.attributes when both are set", () => {
    const spec = { filter: { attributes: { type: "nope" } }, filters: [{ prefix: { type: "io.maas." } }] };
    expect(matchesTrigger(spec, event)).toBe(true);
  });

  it("parseTriggerFilter refuses cesql, empty values and two dialects in one expression", () => {
    expect(() => parseTriggerFilter({ filters: [{ cesql: "type = 'x'" }] })).toThrow();
    expect(() => parseTriggerFilter({ filters: [{ exact: { type: "" } }] })).toThrow();
    expect(() =>
      parseTriggerFilter({ filters: [{ exact: { type: "a" }, prefix: { type: "b" } }] }),
    ).toThrow();
    expect(parseTriggerFilter({ broker: "default", filter: { attributes: { type: "a" } } })).toEqual({
      filter: { attributes: { type: "a" } },
    });
  });
});
