import { describe, expect, it } from "vitest";
import { backoffMs, defaultDeliveryPolicy, parseDeliverySpec, parseIsoDurationMs } from "./delivery-spec.js";

describe("parseIsoDurationMs", () => {
  it.each([
    ["PT0.2S", 200],
    ["PT1S", 1000],
    ["PT1M30S", 90_000],
    ["PT2H", 7_200_000],
    ["P1DT1S", 86_401_000],
  ])("%s = %d ms", (value, ms) => {
    expect(parseIsoDurationMs(value)).toBe(ms);
  });

  it.each(["", "P", "PT", "1S", "PT-1S", "P1Y"])("rejects %j", (value) => {
    expect(() => parseIsoDurationMs(value)).toThrow(/ISO-8601/);
  });
});

describe("parseDeliverySpec", () => {
  it("normalises every field", () => {
    const policy = parseDeliverySpec({
      retry: 3,
      backoffPolicy: "linear",
      backoffDelay: "PT0.5S",
      timeout: "PT5S",
      retryAfterMax: "PT30S",
      deadLetterSink: {
        ref: { apiVersion: "eventing.knative.dev/v1alpha1", kind: "KafkaSink", name: "dlq" },
      },
    });
    expect(policy).toEqual({
      retry: 3,
      backoffPolicy: "linear",
      backoffDelayMs: 500,
      timeoutMs: 5000,
      retryAfterMaxMs: 30_000,
      deadLetterSink: {
        ref: { apiVersion: "eventing.knative.dev/v1alpha1", kind: "KafkaSink", name: "dlq" },
      },
    });
  });

  it("fills gaps from defaults (a Broker's delivery under a Trigger's)", () => {
    const broker = parseDeliverySpec({
      retry: 5,
      backoffDelay: "PT1S",
      deadLetterSink: { uri: "http://dlq/" },
    });
    expect(parseDeliverySpec({ retry: 1 }, broker)).toMatchObject({
      retry: 1,
      backoffPolicy: "exponential",
      backoffDelayMs: 1000,
      deadLetterSink: { uri: "http://dlq/" },
    });
    expect(parseDeliverySpec(undefined)).toEqual(defaultDeliveryPolicy);
  });

  it("refuses malformed specs", () => {
    expect(() => parseDeliverySpec({ retry: -1 })).toThrow();
    expect(() => parseDeliverySpec({ backoffPolicy: "random" })).toThrow();
    expect(() => parseDeliverySpec({ backoffDelay: "soon" })).toThrow(/ISO-8601/);
    expect(() => parseDeliverySpec({ deadLetterSink: {} })).toThrow(/ref or a uri/);
  });
});

describe("backoffMs (Knative formulas)", () => {
  it("linear: delay * attempt", () => {
    const p = { backoffPolicy: "linear" as const, backoffDelayMs: 100 };
    expect([1, 2, 3].map((a) => backoffMs(p, a))).toEqual([100, 200, 300]);
  });
  it("exponential: delay * 2^attempt", () => {
    const p = { backoffPolicy: "exponential" as const, backoffDelayMs: 100 };
    expect([1, 2, 3].map((a) => backoffMs(p, a))).toEqual([200, 400, 800]);
  });
});
