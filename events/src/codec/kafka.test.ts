import { AppError } from "@maas/errors";
import { describe, expect, it } from "vitest";
import { events } from "../catalog/events.js";
import { createEvent } from "../event/create-event.js";
import { sampleData, sampleTenantCreated } from "../testing/fixtures.js";
import { decodeKafka, encodeKafka } from "./kafka.js";

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return "no error";
}

/** What kafkajs hands a consumer: every header value a Buffer. */
function asConsumed(r: { key: string | null; value: Buffer; headers: Record<string, string> }) {
  return {
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value,
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v)])),
  };
}

describe("Kafka binary mode (§3.2)", () => {
  it("maps attributes to ce_ headers, datacontenttype to content-type, partitionkey to the key", () => {
    const ev = sampleTenantCreated();
    const rec = encodeKafka(ev);
    expect(rec.key).toBe("tnt_acme");
    expect(rec.headers).toMatchObject({
      ce_id: ev.id,
      ce_type: ev.type,
      ce_source: ev.source,
      ce_specversion: "1.0",
      ce_time: ev.time,
      ce_tenantid: "tnt_acme",
      "content-type": "application/json",
    });
    expect(rec.headers.ce_datacontenttype).toBeUndefined();
    expect(rec.timestamp).toBe(String(Date.parse(ev.time as string)));
    expect(JSON.parse(rec.value.toString())).toEqual(sampleData.tenantCreated);
    const back = decodeKafka(asConsumed(rec));
    expect(back.toJSON()).toEqual(ev.toJSON());
  });

  it("accepts a kcat-style record: headers only, no key, no content-type", () => {
    const ev = decodeKafka({
      key: null,
      value: Buffer.from(JSON.stringify(sampleData.inferenceCompleted)),
      headers: {
        ce_id: Buffer.from("evt_kcat_1"),
        ce_specversion: Buffer.from("1.0"),
        ce_type: Buffer.from("io.maas.inference.completed.v1"),
        ce_source: Buffer.from("kcat"),
      },
    });
    expect(ev.id).toBe("evt_kcat_1");
    expect(ev.data).toEqual(sampleData.inferenceCompleted);
    expect(ev.partitionkey).toBe("tnt_acme");
  });

  it("refuses tombstones, non-events and invalid data", () => {
    expect(code(() => decodeKafka({ key: "k", value: null, headers: { ce_id: "1" } }))).toBe("INVALID_EVENT");
    expect(code(() => decodeKafka({ key: "k", value: "{}", headers: {} }))).toBe("INVALID_EVENT");
    const h = { ce_id: "1", ce_specversion: "1.0", ce_source: "s", "content-type": "application/json" };
    expect(code(() => decodeKafka({ key: null, value: "{}", headers: { ...h, ce_type: "x.y" } }))).toBe(
      "UNKNOWN_EVENT_TYPE",
    );
    expect(
      code(() =>
        decodeKafka({ key: null, value: "{}", headers: { ...h, ce_type: "io.maas.tenant.created.v1" } }),
      ),
    ).toBe("INVALID_EVENT");
    expect(
      code(() =>
        decodeKafka({
          key: null,
          value: JSON.stringify(sampleData.tenantCreated),
          headers: { ...h, ce_type: "io.maas.tenant.created.v1", ce_time: "yesterday" },
        }),
      ),
    ).toBe("INVALID_EVENT");
  });
});

describe("Kafka structured mode (§3.3)", () => {
  it("round-trips with the key as partitionkey", () => {
    const ev = createEvent(events.inferenceCompleted, {
      source: "/functions/gateway",
      data: sampleData.inferenceCompleted,
    });
    const rec = encodeKafka(ev, "structured");
    expect(rec.key).toBe("tnt_acme");
    expect(rec.headers).toEqual({ "content-type": "application/cloudevents+json; charset=utf-8" });
    expect(decodeKafka(asConsumed(rec)).toJSON()).toEqual(ev.toJSON());
  });

  it("accepts a structured record from another client, without time, key taken as partitionkey", () => {
    const value = JSON.stringify({
      specversion: "1.0",
      id: "evt_ext",
      source: "other-system",
      type: "io.maas.inference.completed.v1",
      data: sampleData.inferenceCompleted,
    });
    const ev = decodeKafka({
      key: "tnt_acme",
      value,
      headers: { "Content-Type": "application/cloudevents+json" },
    });
    expect(ev.id).toBe("evt_ext");
    expect(ev.partitionkey).toBe("tnt_acme");
  });

  it("refuses batched records", () => {
    const value = JSON.stringify([sampleTenantCreated().toJSON()]);
    expect(
      code(() =>
        decodeKafka({ key: null, value, headers: { "content-type": "application/cloudevents-batch+json" } }),
      ),
    ).toBe("INVALID_EVENT");
  });
});
