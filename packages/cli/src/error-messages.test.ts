import { ERROR_CODES, type ErrorCode } from "@maas/errors";
import { describe, expect, it } from "vitest";
import { errorFromResponse } from "./api-client.js";
import { CliError } from "./cli-error.js";
import { describeError, formatBytes } from "./error-messages.js";
import { EXIT } from "./exit-codes.js";

const body = (code: string, message: string, details?: unknown) => ({
  error: { code, message, requestId: "req_1", docs: "https://docs", details },
});

describe("describeError", () => {
  it("has a one-line message and an exit status for every platform code", () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const { line, exit } = describeError(new CliError(code, "boom"));
      expect(line.startsWith("maas: "), code).toBe(true);
      expect(line, code).not.toContain("\n");
      expect(exit, code).toBeGreaterThan(0);
    }
  });

  it("UNAUTHENTICATED says to run maas login (exit 3)", () => {
    const e = errorFromResponse(401, body("UNAUTHENTICATED", "invalid key"));
    expect(describeError(e)).toEqual({
      line: "maas: not authenticated: the API key is missing, revoked or wrong; run maas login",
      exit: EXIT.AUTH,
    });
  });

  it("QUOTA_EXCEEDED gives limit, used and requested (exit 5)", () => {
    const e = errorFromResponse(
      403,
      body("QUOTA_EXCEEDED", "storage", { limit: 1073741824, used: 536870912, requested: 805306368 }),
    );
    expect(describeError(e)).toEqual({
      line: "maas: quota exceeded: limit 1.0 GiB, used 512.0 MiB, this needs 768.0 MiB; delete old versions or ask for a bigger quota",
      exit: EXIT.QUOTA,
    });
  });

  it("VALIDATION_FAILED lists the fields (exit 6)", () => {
    const e = errorFromResponse(
      400,
      body("VALIDATION_FAILED", "invalid body", {
        issues: [
          { path: "sizeBytes", message: "must be positive" },
          { path: "sha256", message: "must be 64 hex characters" },
        ],
      }),
    );
    expect(describeError(e)).toEqual({
      line: "maas: invalid input: sizeBytes: must be positive; sha256: must be 64 hex characters",
      exit: EXIT.REJECTED,
    });
  });

  it("CONFLICT with missing parts names them", () => {
    const e = errorFromResponse(409, body("CONFLICT", "parts missing", { missingParts: [3, 9] }));
    expect(describeError(e).line).toBe(
      "maas: conflict: 2 part(s) missing on the server (3, 9); run the resume command again",
    );
  });

  it("INTERNAL carries the request id; non-platform bodies get a code from the status", () => {
    expect(describeError(errorFromResponse(500, body("INTERNAL", "internal error"))).line).toBe(
      "maas: server error: internal error (request req_1)",
    );
    const proxy = errorFromResponse(502, undefined, "<html>Bad Gateway</html>");
    expect(proxy.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(proxy.retryable).toBe(true);
    expect(describeError(proxy).exit).toBe(EXIT.UNAVAILABLE);
    expect(errorFromResponse(404, {}).retryable).toBe(false);
  });

  it("unknown errors are one line, exit 1; missing files exit 8", () => {
    expect(describeError(new Error("kaput"))).toEqual({
      line: "maas: unexpected error: kaput",
      exit: EXIT.FAILURE,
    });
    const enoent = Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
    expect(describeError(enoent).exit).toBe(EXIT.LOCAL_FILE);
  });

  it("formatBytes", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(2 * 1024 ** 3)).toBe("2.0 GiB");
  });
});
