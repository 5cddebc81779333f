import { createHash, randomFillSync } from "node:crypto";
import { open } from "node:fs/promises";

/**
 * Writes `size` random bytes to `file` in 16 MiB chunks (bounded memory at any size) and returns
 * their SHA-256. Random, so no layer can compress or dedupe its way to a better figure.
 */
export async function writeRandomFile(file: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  const fh = await open(file, "w");
  try {
    for (let written = 0; written < size; ) {
      const n = Math.min(chunk.length, size - written);
      const view = chunk.subarray(0, n);
      randomFillSync(view);
      hash.update(view);
      await fh.write(view, 0, n);
      written += n;
    }
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}
