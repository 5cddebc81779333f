import { AppError } from "@maas/errors";
import { CloudEvent } from "cloudevents";
import { decodeTime } from "ulid";
import { describe, expect, it } from "vitest";
import { events } from "../catalog/events.js";
import { sampleData } from "../testing/fixtures.js";
import { createEvent } from "./create-event.js";
import { newEventId } from "./event-id.js";
import { validateEvent } from "./validate-event.js";

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected a throw");
}

describe("createEvent", () => {
  it("builds a frozen, spec-valid event with evt_ id and tenant extensions", () => {
    const ev = createEvent(events.tenantCreated, {
      source: "/functions/control",
      data: sampleData.tenantCreated,
    });
    expect(ev.id).toMatch(/^evt_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(ev.specversion).toBe("1.0");
    expect(ev.type).toBe("io.maas.tenant.created.v1");
    expect(ev.datacontenttype).toBe("application/json");
    expect(ev.tenantid).toBe("tnt_acme");
    expect(ev.partitionkey).toBe("tnt_acme");
    expect(Object.isFrozen(ev)).toBe(true);
    expect(ev.validate()).toBe(true);
  });

  it("keeps explicit id, time, subject and traceparent", () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const ev = createEvent(events.tenantCreated, {
      source: "/x",
      data: sampleData.tenantCreated,
      id: "evt_fixed",
      time: "2026-02-03T04:05:06.000Z",
      subject: "tenants/tnt_acme",
      traceparent,
    });
    expect([ev.id, ev.time, ev.subject, ev.traceparent]).toEqual([
      "evt_fixed",
      "2026-02-03T04:05:06.000Z",
      "tenants/tnt_acme",
      traceparent,
    ]);
  });

  it("rejects data that breaks the schema with VALIDATION_FAILED", () => {
    const err = thrown(() =>
      createEvent(events.tenantCreated, {
        source: "/x",
        data: { ...sampleData.tenantCreated, slug: "Not A Slug" },
      }),
    );
    expect(err.code).toBe("VALIDATION_FAILED");
    expect(JSON.stringify(err.details)).toContain("slug");
  });

  it("makes time-sortable ids", () => {
    // Monotonic: ids never go backwards, so the clock values used here must be ahead of earlier ids.
    const t = Date.now() + 60_000;
    const a = newEventId(t);
    const b = newEventId(t + 1_000);
    expect(a < b).toBe(true);
    expect(decodeTime(b.slice(4).toUpperCase())).toBe(t + 1_000);
    const same = [newEventId(t + 2_000), newEventId(t + 2_000), newEventId(t + 2_000)];
    expect([...same].sort()).toEqual(same);
  });
});

describe("validateEvent", () => {
  const base = {
    specversion: "1.0",
    id: "evt_1",
    source: "/x",
    type: "io.maas.tenant.created.v1",
    datacontenttype: "application/json",
    data: sampleData.tenantCreated,
  };

  it("passes a valid event and fills tenantid/partitionkey from the data", () => {
    const ev = validateEvent(new CloudEvent(base, false));
    expect(ev.tenantid).toBe("tnt_acme");
    expect(ev.partitionkey).toBe("tnt_acme");
    expect(ev.data).toEqual(sampleData.tenantCreated);
  });

  it("answers UNKNOWN_EVENT_TYPE for a type outside the catalog", () => {
    expect(
      thrown(() => validateEvent(new CloudEvent({ ...base, type: "com.example.nope" }, false))).code,
    ).toBe("UNKNOWN_EVENT_TYPE");
  });

  it("answers INVALID_EVENT with issues for bad data", () => {
    const err = thrown(() => validateEvent(new CloudEvent({ ...base, data: { tenantId: "tnt_a" } }, false)));
    expect(err.code).toBe("INVALID_EVENT");
    expect(err.details).toMatchObject({
      issues: expect.arrayContaining([expect.objectContaining({ path: "slug" })]),
    });
  });

  it("answers INVALID_EVENT for spec violations and other spec versions", () => {
    expect(thrown(() => validateEvent(new CloudEvent({ ...base, source: "" }, false))).code).toBe(
      "INVALID_EVENT",
    );
    expect(thrown(() => validateEvent(new CloudEvent({ ...base, specversion: "0.3" }, false))).code).toBe(
      "INVALID_EVENT",
    );
  });

  it("refuses a tenantid that disagrees with data.tenantId", () => {
    const err = thrown(() => validateEvent(new CloudEvent({ ...base, tenantid: "tnt_other" }, false)));
    expect(err.code).toBe("INVALID_EVENT");
    expect(err.message).toContain("does not match");
  });

  it("parses JSON data that arrived as text", () => {
    const ev = validateEvent(
      new CloudEvent({ ...base, data: JSON.stringify(sampleData.tenantCreated) }, false),
    );
    expect(ev.data).toEqual(sampleData.tenantCreated);
  });
});
