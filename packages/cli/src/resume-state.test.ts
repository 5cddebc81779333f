import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadResumeState, type ResumeState, removeResumeState, saveResumeState } from "./resume-state.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "maas-resume-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const state: ResumeState = {
  uploadId: "upl_abc123",
  endpoint: "http://127.0.0.1:8080",
  file: "/data/model.onnx",
  sizeBytes: 2 * 1024 ** 3,
  mtimeMs: 1_700_000_000_123.5,
  sha256: "a".repeat(64),
  model: "resnet",
  version: 3,
  createdAt: "2026-11-25T00:00:00.000Z",
};

describe("resume state", () => {
  it("round-trips under uploads/<id>.json with mode 0600, and is removed after", async () => {
    const file = await saveResumeState(dir, state);
    expect(file).toBe(path.join(dir, "uploads", "upl_abc123.json"));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await loadResumeState(dir, state.uploadId)).toEqual(state);
    await removeResumeState(dir, state.uploadId);
    expect(await loadResumeState(dir, state.uploadId)).toBeNull();
  });

  it("a missing or corrupt state is null (resume then re-hashes)", async () => {
    expect(await loadResumeState(dir, "upl_none")).toBeNull();
    await saveResumeState(dir, state);
    await writeFile(path.join(dir, "uploads", "upl_abc123.json"), '{"uploadId":"upl_abc123"}');
    expect(await loadResumeState(dir, state.uploadId)).toBeNull();
  });

  it("refuses ids that would leave the folder", async () => {
    await expect(saveResumeState(dir, { ...state, uploadId: "../evil" })).rejects.toThrow(/bad upload id/);
  });
});
