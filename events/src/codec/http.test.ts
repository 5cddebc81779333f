import { AppError } from "@maas/errors";
import { describe, expect, it } from "vitest";
import { sampleTenantCreated } from "../testing/fixtures.js";
import { decodeHttp, encodeHttpBinary, encodeHttpStructured } from "./http.js";

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return "no error";
}

const data = { tenantId: "tnt_acme", slug: "acme", name: "Acme Inc", plan: "free" };

describe("HTTP binary mode (§3.1)", () => {
  it("round-trips through encodeHttpBinary/decodeHttp", () => {
    const ev = sampleTenantCreated();
    const { headers, body } = encodeHttpBinary(ev);
    expect(headers).toMatchObject({
      "ce-id": ev.id,
      "ce-type": "io.maas.tenant.created.v1",
      "ce-specversion": "1.0",
      "ce-source": "/functions/control",
      "ce-tenantid": "tnt_acme",
      "ce-partitionkey": "tnt_acme",
      "content-type": "application/json",
    });
    expect(JSON.parse(body)).toEqual(data);
    const back = decodeHttp(headers, body);
    expect(back.toJSON()).toEqual(ev.toJSON());
  });

  it("accepts a Fetch Headers object, mixed-case names and bytes", () => {
    const ev = sampleTenantCreated();
    const { headers, body } = encodeHttpBinary(ev);
    const h = new Headers();
    for (const [k, v] of Object.entries(headers)) h.set(k.toUpperCase(), v);
    expect(decodeHttp(h, new TextEncoder().encode(body)).id).toBe(ev.id);
  });

  it("accepts a hand-written request like curl would send", () => {
    const ev = decodeHttp(
      {
        "Ce-Id": "evt_curl",
        "Ce-Specversion": "1.0",
        "Ce-Type": "io.maas.tenant.created.v1",
        "Ce-Source": "curl",
        "Content-Type": "application/json;charset=utf-8",
      },
      JSON.stringify(data),
    );
    expect(ev.data).toEqual(data);
    expect(ev.partitionkey).toBe("tnt_acme");
  });

  it("refuses no CloudEvent, unknown types and bad data with stable codes", () => {
    expect(code(() => decodeHttp({ "content-type": "application/json" }, "{}"))).toBe("INVALID_EVENT");
    const h = { "ce-id": "1", "ce-specversion": "1.0", "ce-source": "s", "content-type": "application/json" };
    expect(code(() => decodeHttp({ ...h, "ce-type": "com.example.x" }, "{}"))).toBe("UNKNOWN_EVENT_TYPE");
    expect(code(() => decodeHttp({ ...h, "ce-type": "io.maas.tenant.created.v1" }, "{}"))).toBe(
      "INVALID_EVENT",
    );
    expect(code(() => decodeHttp({ ...h, "ce-type": "io.maas.tenant.created.v1" }, "{not json"))).toBe(
      "INVALID_EVENT",
    );
    expect(
      code(() => decodeHttp({ ...h, "ce-type": "io.maas.tenant.created.v1", "ce-Bad_Ext": "x" }, "{}")),
    ).toBe("INVALID_EVENT");
  });
});

describe("HTTP structured mode (§3.2)", () => {
  it("round-trips through encodeHttpStructured/decodeHttp", () => {
    const ev = sampleTenantCreated();
    const { headers, body } = encodeHttpStructured(ev);
    expect(headers["content-type"]).toBe("application/cloudevents+json; charset=utf-8");
    expect(JSON.parse(body)).toMatchObject({ id: ev.id, data, tenantid: "tnt_acme" });
    expect(decodeHttp(headers, body).toJSON()).toEqual(ev.toJSON());
  });

  it("refuses a structured event without required attributes (the SDK would invent an id)", () => {
    const body = JSON.stringify({ specversion: "1.0", type: "io.maas.tenant.created.v1", source: "s", data });
    expect(code(() => decodeHttp({ "content-type": "application/cloudevents+json" }, body))).toBe(
      "INVALID_EVENT",
    );
  });

  it("refuses batched mode (§3.3)", () => {
    const ev = sampleTenantCreated();
    const body = JSON.stringify([ev.toJSON()]);
    expect(code(() => decodeHttp({ "content-type": "application/cloudevents-batch+json" }, body))).toBe(
      "INVALID_EVENT",
    );
  });

  it("accepts a Knative PingSource tick in binary mode", () => {
    const ev = decodeHttp(
      {
        "ce-id": "ping-1",
        "ce-specversion": "1.0",
        "ce-type": "dev.knative.sources.ping",
        "ce-source": "/apis/v1/namespaces/maas/pingsources/billing-close",
        "content-type": "application/json",
      },
      '{"period":"monthly"}',
    );
    expect(ev.data).toEqual({ period: "monthly" });
  });
});
