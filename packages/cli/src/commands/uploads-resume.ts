import path from "node:path";
import type { Dispatcher } from "undici";
import type { ApiClient } from "../api-client.js";
import { CliError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import { sha256File } from "../hash-file.js";
import { createProgress } from "../progress.js";
import { loadResumeState, saveResumeState } from "../resume-state.js";
import { statFile } from "./models-push.js";
import { transferAndComplete } from "./transfer.js";

/**
 * `maas uploads resume <id>`: the server's part list is the truth (resume works from any machine with
 * only the id); the local file is trusted when size and mtime match the saved state, else re-hashed
 * against the upload's declared SHA-256.
 */
export async function uploadsResumeCommand(
  io: CliIo,
  api: ApiClient,
  dispatcher: Dispatcher,
  configDir: string,
  options: { uploadId: string; file?: string; parallel: number },
): Promise<void> {
  const { upload, parts } = await api.getUpload(options.uploadId);
  if (upload.status !== "active") {
    throw new CliError(
      "CONFLICT",
      `upload ${upload.id} is ${upload.status}, not active; push the file again`,
    );
  }
  const state = await loadResumeState(configDir, upload.id);
  const file = options.file ? path.resolve(options.file) : state?.file;
  if (!file) {
    throw new CliError(
      "USAGE",
      `no saved state for ${upload.id} on this machine: pass --file <path> to the model file`,
    );
  }
  const info = await statFile(file);
  if (info.size !== upload.sizeBytes) {
    throw new CliError(
      "FILE_CHANGED",
      `${file} is ${info.size} bytes but upload ${upload.id} expects ${upload.sizeBytes}; is it the same file?`,
    );
  }
  const trusted =
    state !== null &&
    state.file === file &&
    state.mtimeMs === info.mtimeMs &&
    state.sizeBytes === info.size &&
    state.sha256 === upload.sha256;
  if (!trusted) {
    const plain = io.env.MAAS_PROGRESS === "plain" || io.stderr.isTTY !== true;
    io.stderr.write(
      `verifying ${file} against the upload's sha256 (size or mtime differ from the saved state)\n`,
    );
    const bar = createProgress({
      label: "sha256",
      total: info.size,
      out: io.stderr,
      tty: !plain,
      intervalMs: plain ? 5000 : 100,
    });
    const sha256 = await sha256File(file, {
      onBytes: (n) => bar.add(n),
      ...(io.signal ? { signal: io.signal } : {}),
    }).catch((err: unknown) => {
      bar.stop();
      throw io.signal?.aborted ? new CliError("INTERRUPTED", "interrupted") : err;
    });
    bar.finish();
    if (sha256 !== upload.sha256) {
      throw new CliError(
        "FILE_CHANGED",
        `${file} does not match upload ${upload.id} (sha256 ${sha256}, expected ${upload.sha256})`,
      );
    }
    await saveResumeState(configDir, {
      uploadId: upload.id,
      endpoint: api.endpoint,
      file,
      sizeBytes: info.size,
      mtimeMs: info.mtimeMs,
      sha256,
      model: state?.model ?? upload.modelId,
      version: upload.version,
      createdAt: state?.createdAt ?? new Date().toISOString(),
    });
  }
  await transferAndComplete({
    io,
    api,
    dispatcher,
    configDir,
    upload,
    serverParts: parts,
    file,
    parallel: options.parallel,
    model: state?.model ?? upload.modelId,
  });
}
