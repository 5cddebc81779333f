import { AppError } from "@maas/errors";
import { MiB, S3_LIMITS } from "./limits.js";

export interface PartSizeOptions {
  /** Smallest part; default 8 MiB (S3's own minimum is 5 MiB). */
  minPartSize?: number;
  /** Most parts; default S3's 10,000. */
  maxParts?: number;
}

/**
 * The part size for a file of `totalBytes`: the smallest whole number of MiB, at least
 * `minPartSize`, that keeps the part count within `maxParts`. Refuses objects over 5 TiB.
 *
 * @example
 * choosePartSize(50 * GiB); // 8 MiB: 6,400 parts (the floor wins)
 * choosePartSize(100 * GiB); // 11 MiB: 10 MiB would take 10,240 parts
 */
export function choosePartSize(totalBytes: number, options: PartSizeOptions = {}): number {
  const minPartSize = options.minPartSize ?? 8 * MiB;
  const maxParts = options.maxParts ?? S3_LIMITS.maxParts;
  if (!Number.isSafeInteger(totalBytes) || totalBytes < 0) {
    throw new AppError("VALIDATION_FAILED", "size must be a non-negative integer", {
      details: { totalBytes },
    });
  }
  if (totalBytes > S3_LIMITS.maxObjectSize) {
    throw new AppError("VALIDATION_FAILED", `size exceeds the ${S3_LIMITS.maxObjectSize}-byte object limit`, {
      details: { totalBytes, max: S3_LIMITS.maxObjectSize },
    });
  }
  if (!Number.isSafeInteger(maxParts) || maxParts < 1 || maxParts > S3_LIMITS.maxParts) {
    throw new AppError("VALIDATION_FAILED", `maxParts must be 1..${S3_LIMITS.maxParts}`);
  }
  const floor = Math.max(Math.ceil(minPartSize / MiB), 1) * MiB;
  const needed = Math.ceil(totalBytes / maxParts / MiB) * MiB;
  const partSize = Math.max(floor, needed);
  if (partSize > S3_LIMITS.maxPartSize) {
    throw new AppError("VALIDATION_FAILED", `size needs parts over ${S3_LIMITS.maxPartSize} bytes`, {
      details: { totalBytes, partSize },
    });
  }
  return partSize;
}

/** How many parts `totalBytes` takes at `partSize`; an empty file is still one (empty) part. */
export function partCount(totalBytes: number, partSize: number): number {
  if (!(partSize > 0)) throw new AppError("VALIDATION_FAILED", "part size must be positive");
  return Math.max(1, Math.ceil(totalBytes / partSize));
}

/**
 * Byte range of part `partNumber` (1-based, as S3 numbers them): `start` inclusive, `end`
 * exclusive, `size = end - start`. The last part is the remainder.
 *
 * @example
 * partRange(2, 20 * MiB, 8 * MiB); // { start: 8 MiB, end: 16 MiB, size: 8 MiB }
 */
export function partRange(
  partNumber: number,
  totalBytes: number,
  partSize: number,
): { start: number; end: number; size: number } {
  const count = partCount(totalBytes, partSize);
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > count) {
    throw new AppError("VALIDATION_FAILED", `part number must be 1..${count}`, { details: { partNumber } });
  }
  const start = (partNumber - 1) * partSize;
  const end = Math.min(start + partSize, totalBytes);
  return { start, end, size: end - start };
}
