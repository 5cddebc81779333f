import { AppError } from "@maas/errors";
import { afterEach, describe, expect, it, vi } from "vitest";
import { events } from "../catalog/events.js";
import { decodeKafka, encodeKafka, type KafkaRecord } from "../codec/kafka.js";
import { createEvent } from "../event/create-event.js";
import { sampleData, sampleTenantCreated } from "../testing/fixtures.js";
import { decodeKafkaFast } from "./fast-decode.js";

/** What kafkajs hands a consumer: every header value a Buffer. */
function consumed(r: { key: string | null; value: Buffer; headers: Record<string, string> }): KafkaRecord {
  return {
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value,
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v)])),
  };
}

function usage(extra: { traceparent?: string; subject?: string } = {}) {
  return createEvent(events.inferenceCompleted, {
    source: "/functions/gateway",
    data: sampleData.inferenceCompleted,
    ...extra,
  });
}

function outcome(fn: () => unknown): unknown {
  try {
    const ev = fn() as { toJSON(): unknown };
    return ev.toJSON();
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, message: err.message };
    throw err;
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe("decodeKafkaFast", () => {
  it("returns the same event as decodeKafka for the platform's binary records", () => {
    const samples = [
      usage(),
      usage({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }),
      usage({ subject: "req_1" }),
      sampleTenantCreated(),
    ];
    for (const ev of samples) {
      for (const mode of ["binary", "structured"] as const) {
        const rec = consumed(encodeKafka(ev, mode));
        const fast = decodeKafkaFast(rec);
        expect(fast.toJSON()).toEqual(decodeKafka(rec).toJSON());
        expect(fast.toJSON()).toEqual(ev.toJSON());
        expect(Object.isFrozen(fast)).toBe(true);
      }
    }
  });

  it("answers exactly as decodeKafka for records outside its shape", () => {
    // A record without `time` gets the current time from each decoder: one frozen clock for both.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.parse("2026-11-25T12:00:00.000Z") });
    const good = encodeKafka(usage());
    const variants: Record<string, KafkaRecord> = {
      structuredExtra: consumed({
        ...encodeKafka(usage(), "structured"),
        value: Buffer.from(JSON.stringify({ ...usage().toJSON(), region: "eu" })),
      }),
      structuredBadData: consumed({
        ...encodeKafka(usage(), "structured"),
        value: Buffer.from(JSON.stringify({ ...usage().toJSON(), data: { tenantId: "tnt_acme" } })),
      }),
      structuredNoId: consumed({
        ...encodeKafka(usage(), "structured"),
        value: Buffer.from(JSON.stringify({ ...usage().toJSON(), id: undefined })),
      }),
      structuredOtherKey: consumed({ ...encodeKafka(usage(), "structured"), key: "tnt_other" }),
      unknownType: consumed({ ...good, headers: { ...good.headers, ce_type: "io.maas.nope.v1" } }),
      badData: consumed({ ...good, value: Buffer.from(JSON.stringify({ tenantId: "tnt_acme" })) }),
      notJson: consumed({ ...good, value: Buffer.from("{oops") }),
      badTime: consumed({ ...good, headers: { ...good.headers, ce_time: "yesterday" } }),
      noTime: consumed({
        ...good,
        headers: Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== "ce_time")),
      }),
      oldSpec: consumed({ ...good, headers: { ...good.headers, ce_specversion: "0.3" } }),
      emptyId: consumed({ ...good, headers: { ...good.headers, ce_id: "" } }),
      oddSource: consumed({ ...good, headers: { ...good.headers, ce_source: "not a uri ref%%" } }),
      extraExtension: consumed({ ...good, headers: { ...good.headers, ce_region: "eu" } }),
      tenantMismatch: consumed({ ...good, headers: { ...good.headers, ce_tenantid: "tnt_other" } }),
      noContentType: consumed({
        ...good,
        headers: Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== "content-type")),
      }),
      tombstone: { key: null, value: null, headers: {} },
    };
    for (const [name, rec] of Object.entries(variants)) {
      expect({ name, out: outcome(() => decodeKafkaFast(rec)) }).toEqual({
        name,
        out: outcome(() => decodeKafka(rec)),
      });
    }
    // The cases above must include both verdicts, or the comparison proves little.
    expect(
      (outcome(() => decodeKafkaFast(variants.tenantMismatch as KafkaRecord)) as { code: string }).code,
    ).toBe("INVALID_EVENT");
    expect(
      (outcome(() => decodeKafkaFast(variants.extraExtension as KafkaRecord)) as { region: string }).region,
    ).toBe("eu");
  });
});
