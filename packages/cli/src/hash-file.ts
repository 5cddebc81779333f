import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

const CHUNK = 1024 * 1024;

/**
 * SHA-256 of a file, read once in 1 MiB chunks into ONE reused buffer: bounded memory at any size
 * and no garbage (a read stream allocates a fresh buffer per chunk, and over a 2 GiB file those
 * pile up as external memory until V8 gets round to a GC, which alone pushed the CLI's RSS up).
 *
 * @example
 * const hex = await sha256File("model.onnx", { onBytes: (n) => bar.add(n) });
 */
export async function sha256File(
  file: string,
  options: { onBytes?: (n: number) => void; signal?: AbortSignal } = {},
): Promise<string> {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(CHUNK);
  const fh = await open(file, "r");
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      options.onBytes?.(bytesRead);
    }
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}
