import { AppError } from "@maas/errors";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** S3's multipart limits; FsObjectStore enforces the same so both stores fail alike. */
export const S3_LIMITS = {
  maxParts: 10_000,
  minPartSize: 5 * MiB,
  maxPartSize: 5 * GiB,
  maxObjectSize: 5 * TiB,
  maxPresignSeconds: 7 * 24 * 3600,
} as const;

/** Keys are S3 keys that are also safe relative paths: no `..`, no empty or dot-led segments. */
export function assertKey(key: string): void {
  const bad =
    key.length === 0 ||
    key.length > 1024 ||
    key.startsWith("/") ||
    key.endsWith("/") ||
    key.includes("\\") ||
    key.includes("\0") ||
    key.split("/").some((segment) => segment === "" || segment.startsWith("."));
  if (bad) throw new AppError("VALIDATION_FAILED", `invalid object key: ${JSON.stringify(key)}`);
}

export function assertPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > S3_LIMITS.maxParts) {
    throw new AppError("VALIDATION_FAILED", `part number must be an integer 1..${S3_LIMITS.maxParts}`, {
      details: { partNumber },
    });
  }
}

export function assertPartSize(contentLength: number): void {
  if (!Number.isSafeInteger(contentLength) || contentLength < 0 || contentLength > S3_LIMITS.maxPartSize) {
    throw new AppError("VALIDATION_FAILED", `part size must be 0..${S3_LIMITS.maxPartSize} bytes`, {
      details: { contentLength },
    });
  }
}

export function assertObjectSize(contentLength: number): void {
  if (!Number.isSafeInteger(contentLength) || contentLength < 0 || contentLength > S3_LIMITS.maxObjectSize) {
    throw new AppError("VALIDATION_FAILED", `object size must be 0..${S3_LIMITS.maxObjectSize} bytes`, {
      details: { contentLength },
    });
  }
}

export function assertExpiry(expiresInSeconds: number): void {
  if (
    !Number.isInteger(expiresInSeconds) ||
    expiresInSeconds < 1 ||
    expiresInSeconds > S3_LIMITS.maxPresignSeconds
  ) {
    throw new AppError("VALIDATION_FAILED", `expiry must be 1..${S3_LIMITS.maxPresignSeconds} seconds`);
  }
}

/** A prefix for list/delete: like a key but may be a folder (`a/b/`); never empty (no deleting the bucket). */
export function assertPrefix(prefix: string, allowEmpty: boolean): void {
  if (prefix === "" && allowEmpty) return;
  const trimmed = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  try {
    assertKey(trimmed);
  } catch {
    throw new AppError("VALIDATION_FAILED", `invalid prefix: ${JSON.stringify(prefix)}`);
  }
}

/**
 * Checks a completion list before touching the store: non-empty, ascending, no duplicates.
 * S3 answers InvalidPartOrder for an unsorted list; we refuse the same way on both stores.
 */
export function assertCompletedParts(parts: { partNumber: number; etag: string }[]): void {
  if (parts.length === 0)
    throw new AppError("VALIDATION_FAILED", "a multipart upload needs at least one part");
  let previous = 0;
  for (const part of parts) {
    assertPartNumber(part.partNumber);
    if (part.partNumber <= previous) {
      throw new AppError("VALIDATION_FAILED", "parts must be listed in ascending order without duplicates", {
        details: { partNumber: part.partNumber },
      });
    }
    previous = part.partNumber;
  }
}

/** `"abc"` → `abc`, lower-case: S3 quotes etags; our API never does. */
export function normalizeEtag(etag: string | undefined): string {
  return (etag ?? "").replaceAll('"', "").toLowerCase();
}
