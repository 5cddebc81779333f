import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/** What `maas uploads resume <id>` needs to trust the local file without hashing it again. */
export const resumeStateSchema = z.object({
  uploadId: z.string().min(1),
  endpoint: z.url(),
  file: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
  mtimeMs: z.number(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  model: z.string().min(1),
  version: z.number().int().optional(),
  createdAt: z.string(),
});
export type ResumeState = z.infer<typeof resumeStateSchema>;

const idPattern = /^[A-Za-z0-9_-]+$/;

function stateFile(configDir: string, uploadId: string): string {
  // The id becomes a file name: refuse anything that could walk out of the folder.
  if (!idPattern.test(uploadId)) throw new Error(`bad upload id: ${uploadId}`);
  return path.join(configDir, "uploads", `${uploadId}.json`);
}

/** Saves (or replaces) the resume state of an upload, mode 0600. */
export async function saveResumeState(configDir: string, state: ResumeState): Promise<string> {
  const file = stateFile(configDir, state.uploadId);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(resumeStateSchema.parse(state), null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** The saved state, or null when there is none or it is unreadable (resume then re-hashes). */
export async function loadResumeState(configDir: string, uploadId: string): Promise<ResumeState | null> {
  try {
    const parsed = resumeStateSchema.safeParse(
      JSON.parse(await readFile(stateFile(configDir, uploadId), "utf8")),
    );
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function removeResumeState(configDir: string, uploadId: string): Promise<void> {
  await rm(stateFile(configDir, uploadId), { force: true });
}
