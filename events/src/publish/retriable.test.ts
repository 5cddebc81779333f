import { describe, expect, it } from "vitest";
import { isRetriable, retryAfterMs } from "./retriable.js";

describe("isRetriable", () => {
  it.each([404, 408, 409, 429, 500, 502, 503, 504, undefined])("retries %s", (status) => {
    expect(isRetriable(status)).toBe(true);
  });
  it.each([200, 202, 400, 401, 403, 405, 410, 413, 415, 422])("does not retry %s", (status) => {
    expect(isRetriable(status)).toBe(false);
  });
});

describe("retryAfterMs", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it("reads delay-seconds and HTTP-dates on 429 and 503", () => {
    expect(retryAfterMs(429, "3", now)).toBe(3000);
    expect(retryAfterMs(503, "Thu, 01 Jan 2026 00:00:10 GMT", now)).toBe(10_000);
    expect(retryAfterMs(503, "Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
  });
  it("ignores it elsewhere or when unparseable", () => {
    expect(retryAfterMs(500, "3", now)).toBeUndefined();
    expect(retryAfterMs(429, undefined, now)).toBeUndefined();
    expect(retryAfterMs(429, "later", now)).toBeUndefined();
  });
});
