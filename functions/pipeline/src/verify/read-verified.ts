import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { ObjectStore } from "@maas/storage";

export interface Declared {
  sizeBytes: number;
  sha256: string;
}

export type ReadVerifiedResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; code: "SIZE_MISMATCH" | "CHECKSUM_MISMATCH"; message: string };

/**
 * Streams an uploaded object once, counting and hashing as it goes, into one buffer of the declared
 * size (the caller has bounded it). Stops as soon as the object proves longer than declared, so a
 * wrong size never makes the buffer grow. Store failures (unreachable, missing object) are thrown for
 * the caller to classify; a size or checksum mismatch is a result with a message for the uploader.
 *
 * @example
 * const r = await readVerified(store, key, { sizeBytes: 77345, sha256: "ab…" });
 * if (!r.ok) reject(r.code, r.message);
 */
export async function readVerified(
  store: ObjectStore,
  key: string,
  declared: Declared,
): Promise<ReadVerifiedResult> {
  const stream: Readable = await store.getStream(key);
  const bytes = new Uint8Array(declared.sizeBytes);
  const hash = createHash("sha256");
  let received = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      if (received + chunk.byteLength > declared.sizeBytes) {
        return {
          ok: false,
          code: "SIZE_MISMATCH",
          message: `the stored object is larger than the ${declared.sizeBytes} bytes the upload declared; push the file again`,
        };
      }
      bytes.set(chunk, received);
      hash.update(chunk);
      received += chunk.byteLength;
    }
  } finally {
    // Ends the connection when we stopped early (no-op after a full read).
    stream.destroy();
  }
  if (received !== declared.sizeBytes) {
    return {
      ok: false,
      code: "SIZE_MISMATCH",
      message: `the stored object is ${received} bytes, the upload declared ${declared.sizeBytes}; push the file again`,
    };
  }
  const actual = hash.digest("hex");
  if (actual !== declared.sha256) {
    return {
      ok: false,
      code: "CHECKSUM_MISMATCH",
      message: `the uploaded bytes hash to ${actual}, the upload declared ${declared.sha256}; push the file again`,
    };
  }
  return { ok: true, bytes };
}
