import { describe, expect, it } from "vitest";
import { CliError } from "./cli-error.js";
import { createRetryPolicy, isRetryable } from "./retry-policy.js";

const fast = { initialDelayMs: 1, maxDelayMs: 2 };

describe("retry policy", () => {
  it("classifies failures", () => {
    expect(isRetryable(new CliError("NETWORK", "reset", { retryable: true }))).toBe(true);
    expect(isRetryable(new CliError("QUOTA_EXCEEDED", "no", { status: 403 }))).toBe(false);
    expect(isRetryable(Object.assign(new Error("socket"), { code: "UND_ERR_SOCKET" }))).toBe(true);
    expect(isRetryable(Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBe(true);
    expect(isRetryable(Object.assign(new Error("aborted"), { name: "AbortError" }))).toBe(false);
    expect(isRetryable(new Error("plain"))).toBe(false);
  });

  it("retries retryable failures until one succeeds", async () => {
    let calls = 0;
    const result = await createRetryPolicy({ retries: 5, ...fast }).execute(() => {
      calls++;
      if (calls < 4) throw new CliError("NETWORK", "reset", { retryable: true });
      return "etag";
    });
    expect(result).toBe("etag");
    expect(calls).toBe(4);
  });

  it("stops after `retries` retries and throws the last error", async () => {
    let calls = 0;
    await expect(
      createRetryPolicy({ retries: 2, ...fast }).execute(() => {
        calls++;
        throw new CliError("PART_UPLOAD_FAILED", `HTTP 503 #${calls}`, { retryable: true });
      }),
    ).rejects.toThrow("HTTP 503 #3");
    expect(calls).toBe(3);
  });

  it("does not retry what cannot change", async () => {
    let calls = 0;
    await expect(
      createRetryPolicy({ retries: 5, ...fast }).execute(() => {
        calls++;
        throw new CliError("UNAUTHENTICATED", "bad key", { status: 401 });
      }),
    ).rejects.toThrow("bad key");
    expect(calls).toBe(1);
  });

  it("backs off with growing, jittered delays", async () => {
    const times: number[] = [];
    await createRetryPolicy({ retries: 4, initialDelayMs: 20, maxDelayMs: 1000 })
      .execute(() => {
        times.push(performance.now());
        throw new CliError("NETWORK", "down", { retryable: true });
      })
      .catch(() => undefined);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toHaveLength(4);
    expect(gaps.reduce((a, b) => a + b, 0)).toBeGreaterThan(60);
    expect(Math.max(...gaps)).toBeLessThan(1100);
  });
});
