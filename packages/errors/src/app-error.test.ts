import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError } from "./app-error.js";
import { validationError } from "./zod-error.js";

describe("AppError", () => {
  it("maps a code to its status and renders the one body", () => {
    const err = new AppError("NOT_FOUND", "model mdl_1 not found", { details: { id: "mdl_1" } });
    expect(err.status).toBe(404);
    expect(err.toBody("req_1")).toEqual({
      error: {
        code: "NOT_FOUND",
        message: "model mdl_1 not found",
        requestId: "req_1",
        docs: "https://docs.maas.dev/errors/not-found",
        details: { id: "mdl_1" },
      },
    });
  });

  it("hides unknown errors behind INTERNAL", () => {
    const err = AppError.from(new Error("password=hunter2"));
    expect(err.code).toBe("INTERNAL");
    expect(JSON.stringify(err.toBody("r"))).not.toContain("hunter2");
  });

  it("turns a zod failure into field-level issues", () => {
    const r = z.object({ name: z.string().min(2) }).safeParse({ name: "a" });
    if (r.success) throw new Error("expected failure");
    const err = validationError(r.error, "body");
    expect(err.status).toBe(400);
    expect(err.details).toEqual({ issues: [{ path: "name", message: expect.any(String) }] });
  });
});
