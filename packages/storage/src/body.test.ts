import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { MeteredStream } from "./body.js";

async function drain(source: Readable, metered: MeteredStream): Promise<{ out: Buffer; error?: unknown }> {
  const out: Buffer[] = [];
  metered.on("data", (c: Buffer) => out.push(c));
  return new Promise((resolve) => {
    metered.on("end", () => resolve({ out: Buffer.concat(out) }));
    metered.on("error", (error) => resolve({ out: Buffer.concat(out), error }));
    source.pipe(metered);
  });
}

describe("MeteredStream", () => {
  it("passes the bytes through, counts and hashes them", async () => {
    const data = Buffer.from("hello world");
    const metered = new MeteredStream(data.length);
    const { out, error } = await drain(Readable.from([data.subarray(0, 5), data.subarray(5)]), metered);
    expect(error).toBeUndefined();
    expect(out).toEqual(data);
    expect(metered.bytes).toBe(11);
    expect(metered.md5()).toBe(createHash("md5").update(data).digest("hex"));
  });

  it("fails a body shorter than declared", async () => {
    const { error } = await drain(Readable.from([Buffer.alloc(5)]), new MeteredStream(10));
    expect(error).toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("fails a body longer than declared without ever emitting the declared length", async () => {
    // If all 10 declared bytes went out before the 11th arrived, S3 would already have the part.
    const { out, error } = await drain(
      Readable.from([Buffer.alloc(10), Buffer.alloc(1)]),
      new MeteredStream(10),
    );
    expect(error).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(out.length).toBeLessThan(10);
  });
});
