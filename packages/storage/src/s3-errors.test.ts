import { AppError } from "@maas/errors";
import { describe, expect, it } from "vitest";
import { toAppError } from "./s3-errors.js";

/** Shaped like what @aws-sdk/client-s3 throws: a named error with `$metadata`. */
function sdkError(name: string, httpStatusCode?: number, code?: string): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    ...(code ? { code } : {}),
    $metadata: httpStatusCode === undefined ? {} : { httpStatusCode },
  });
}

describe("toAppError", () => {
  it.each([
    ["NoSuchUpload", 404, "NOT_FOUND"],
    ["NoSuchKey", 404, "NOT_FOUND"],
    ["NotFound", 404, "NOT_FOUND"],
    ["InvalidPart", 400, "VALIDATION_FAILED"],
    ["InvalidPartOrder", 400, "VALIDATION_FAILED"],
    ["EntityTooSmall", 400, "VALIDATION_FAILED"],
    ["InvalidRange", 416, "VALIDATION_FAILED"],
    ["InternalError", 500, "UPSTREAM_UNAVAILABLE"],
    ["SlowDown", 503, "UPSTREAM_UNAVAILABLE"],
    ["AccessDenied", 403, "UPSTREAM_UNAVAILABLE"],
    // A missing bucket is a misconfigured store, not a missing object.
    ["NoSuchBucket", 404, "UPSTREAM_UNAVAILABLE"],
  ] as const)("maps %s (%i) to %s", (name, status, code) => {
    const mapped = toAppError(sdkError(name, status), "upload u1");
    expect(mapped).toBeInstanceOf(AppError);
    expect(mapped.code).toBe(code);
  });

  it("maps refused connections and timeouts to UPSTREAM_UNAVAILABLE with a retry hint", () => {
    const refused = toAppError(sdkError("Error", undefined, "ECONNREFUSED"), "head");
    expect(refused.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(refused.retryAfterSeconds).toBe(1);
    expect(toAppError(sdkError("TimeoutError"), "head").code).toBe("UPSTREAM_UNAVAILABLE");
  });

  it("keeps AppErrors and hides non-S3 bugs behind INTERNAL", () => {
    const own = new AppError("VALIDATION_FAILED", "short body");
    expect(toAppError(own, "part")).toBe(own);
    expect(toAppError(new TypeError("x is undefined"), "part").code).toBe("INTERNAL");
  });
});
