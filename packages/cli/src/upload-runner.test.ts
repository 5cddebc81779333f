import { describe, expect, it } from "vitest";
import { missingParts, partRange } from "./upload-runner.js";

const MiB = 1024 * 1024;

describe("part plan", () => {
  it("ranges: equal parts and a remainder", () => {
    expect(partRange(1, 20 * MiB, 8 * MiB)).toEqual({ start: 0, end: 8 * MiB });
    expect(partRange(3, 20 * MiB, 8 * MiB)).toEqual({ start: 16 * MiB, end: 20 * MiB });
  });

  it("missing = absent or of the wrong size", () => {
    const upload = { sizeBytes: 20 * MiB, partSize: 8 * MiB, partCount: 3 };
    expect(missingParts(upload, [])).toEqual([1, 2, 3]);
    expect(
      missingParts(upload, [
        { partNumber: 1, size: 8 * MiB },
        { partNumber: 2, size: 3 * MiB },
        { partNumber: 3, size: 4 * MiB },
      ]),
    ).toEqual([2]);
    expect(
      missingParts({ sizeBytes: 0, partSize: 8 * MiB, partCount: 1 }, [{ partNumber: 1, size: 0 }]),
    ).toEqual([]);
  });
});
