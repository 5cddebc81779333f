import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256File } from "./hash-file.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "maas-hash-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("sha256File", () => {
  it("matches a one-shot hash across chunk boundaries and reports every byte", async () => {
    for (const size of [0, 1, 1024 * 1024, 3 * 1024 * 1024 + 7]) {
      const bytes = randomBytes(size);
      const file = path.join(dir, `f${size}`);
      await writeFile(file, bytes);
      let seen = 0;
      expect(await sha256File(file, { onBytes: (n) => (seen += n) })).toBe(
        createHash("sha256").update(bytes).digest("hex"),
      );
      expect(seen).toBe(size);
    }
  });

  it("stops when aborted", async () => {
    const file = path.join(dir, "abort");
    await writeFile(file, randomBytes(1024));
    await expect(sha256File(file, { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});
