import { describe, expect, it } from "vitest";
import { GiB, MiB, TiB } from "./limits.js";
import { choosePartSize, partCount, partRange } from "./part-size.js";

describe("choosePartSize", () => {
  it("never goes below 8 MiB", () => {
    expect(choosePartSize(0)).toBe(8 * MiB);
    expect(choosePartSize(1)).toBe(8 * MiB);
    expect(choosePartSize(2 * GiB)).toBe(8 * MiB);
  });

  it("fits 50 GiB in at most 10,000 parts", () => {
    const size = choosePartSize(50 * GiB);
    expect(size).toBe(8 * MiB); // 6,400 parts: the floor already fits
    expect(partCount(50 * GiB, size)).toBeLessThanOrEqual(10_000);
  });

  it("grows in whole MiB once the floor would need more than 10,000 parts", () => {
    // 100 GiB at 10 MiB is 10,240 parts; 11 MiB is 9,310.
    expect(choosePartSize(100 * GiB)).toBe(11 * MiB);
    expect(partCount(100 * GiB, 11 * MiB)).toBe(9_310);
    // Exactly 10,000 × 8 MiB still fits; one more byte needs 9 MiB.
    expect(choosePartSize(10_000 * 8 * MiB)).toBe(8 * MiB);
    expect(choosePartSize(10_000 * 8 * MiB + 1)).toBe(9 * MiB);
  });

  it("picks the smallest size that fits, for sizes up to 5 TiB", () => {
    for (const total of [1, 79 * GiB, 80 * GiB, 333 * GiB + 17, TiB, 5 * TiB]) {
      const size = choosePartSize(total);
      expect(size % MiB).toBe(0);
      expect(Math.ceil(total / size)).toBeLessThanOrEqual(10_000);
      if (size > 8 * MiB) expect(Math.ceil(total / (size - MiB))).toBeGreaterThan(10_000);
    }
    expect(choosePartSize(5 * TiB)).toBe(525 * MiB);
  });

  it("honours custom floors and part limits", () => {
    expect(choosePartSize(10 * MiB, { minPartSize: 5 * MiB })).toBe(5 * MiB);
    expect(choosePartSize(100 * MiB, { maxParts: 10 })).toBe(10 * MiB);
    expect(choosePartSize(100 * MiB + 1, { maxParts: 10 })).toBe(11 * MiB);
  });

  it("refuses objects over 5 TiB, parts over 5 GiB and nonsense", () => {
    expect(() => choosePartSize(5 * TiB + 1)).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED" }));
    expect(() => choosePartSize(TiB, { maxParts: 100 })).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED" }),
    );
    expect(() => choosePartSize(-1)).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED" }));
    expect(() => choosePartSize(1.5)).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED" }));
    expect(() => choosePartSize(1, { maxParts: 10_001 })).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED" }),
    );
  });
});

describe("partCount and partRange", () => {
  it("cover the file exactly once, the last part taking the remainder", () => {
    const total = 20 * MiB + 5;
    const size = 8 * MiB;
    expect(partCount(total, size)).toBe(3);
    expect(partRange(1, total, size)).toEqual({ start: 0, end: 8 * MiB, size: 8 * MiB });
    expect(partRange(2, total, size)).toEqual({ start: 8 * MiB, end: 16 * MiB, size: 8 * MiB });
    expect(partRange(3, total, size)).toEqual({ start: 16 * MiB, end: total, size: 4 * MiB + 5 });
    let covered = 0;
    for (let i = 1; i <= partCount(total, size); i++) covered += partRange(i, total, size).size;
    expect(covered).toBe(total);
  });

  it("treats an empty file as one empty part and refuses numbers outside the file", () => {
    expect(partCount(0, 8 * MiB)).toBe(1);
    expect(partRange(1, 0, 8 * MiB)).toEqual({ start: 0, end: 0, size: 0 });
    expect(() => partRange(2, 0, 8 * MiB)).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED" }));
    expect(() => partRange(0, 10, 8 * MiB)).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED" }));
    expect(() => partCount(10, 0)).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED" }));
  });
});
