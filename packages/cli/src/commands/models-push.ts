import { stat } from "node:fs/promises";
import path from "node:path";
import type { Dispatcher } from "undici";
import type { ApiClient } from "../api-client.js";
import { CliError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import { formatBytes } from "../error-messages.js";
import { sha256File } from "../hash-file.js";
import { createProgress } from "../progress.js";
import { saveResumeState } from "../resume-state.js";
import { resumeHint, transferAndComplete } from "./transfer.js";

export interface PushOptions {
  file: string;
  model: string;
  parallel: number;
  create: boolean;
  description?: string;
}

/**
 * `maas models push`: hashes the file once (streaming), creates the model if asked, creates the
 * upload, saves the resume state, then sends every part in parallel and completes.
 */
export async function modelsPushCommand(
  io: CliIo,
  api: ApiClient,
  dispatcher: Dispatcher,
  configDir: string,
  options: PushOptions,
): Promise<void> {
  const file = path.resolve(options.file);
  const info = await statFile(file);
  const plain = io.env.MAAS_PROGRESS === "plain" || io.stderr.isTTY !== true;

  // Fail before hashing gigabytes when the model is missing (and --create was not given).
  await ensureModel(api, options);

  const bar = createProgress({
    label: "sha256",
    total: info.size,
    out: io.stderr,
    tty: !plain,
    intervalMs: plain ? 5000 : 100,
  });
  let sha256: string;
  try {
    sha256 = await sha256File(file, {
      onBytes: (n) => bar.add(n),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    bar.finish();
  } catch (err) {
    bar.stop();
    if (io.signal?.aborted) throw new CliError("INTERRUPTED", "interrupted");
    throw err;
  }
  const after = await statFile(file);
  if (after.size !== info.size || after.mtimeMs !== info.mtimeMs) {
    throw new CliError(
      "FILE_CHANGED",
      `${file} changed while it was being hashed; try again when it is complete`,
    );
  }

  const { upload } = await api.createUpload(options.model, {
    sizeBytes: info.size,
    sha256,
    filename: path.basename(file),
  });
  await saveResumeState(configDir, {
    uploadId: upload.id,
    endpoint: api.endpoint,
    file,
    sizeBytes: info.size,
    mtimeMs: info.mtimeMs,
    sha256,
    model: options.model,
    version: upload.version,
    createdAt: new Date().toISOString(),
  });
  io.stderr.write(
    `upload ${upload.id} created: ${options.model} version ${upload.version}, ${formatBytes(upload.sizeBytes)} in ${upload.partCount} part(s) of ${formatBytes(upload.partSize)}, ${options.parallel} in parallel\n` +
      `  (if interrupted: ${resumeHint(upload.id)})\n`,
  );
  await transferAndComplete({
    io,
    api,
    dispatcher,
    configDir,
    upload,
    serverParts: [],
    file,
    parallel: options.parallel,
    model: options.model,
  });
}

async function ensureModel(api: ApiClient, options: PushOptions): Promise<void> {
  try {
    await api.getModel(options.model);
  } catch (err) {
    if (!(err instanceof CliError) || err.code !== "NOT_FOUND") throw err;
    if (!options.create) {
      throw new CliError("NOT_FOUND", `model ${options.model} does not exist; pass --create to create it`);
    }
    try {
      await api.createModel({
        name: options.model,
        ...(options.description === undefined ? {} : { description: options.description }),
      });
    } catch (createErr) {
      // Someone created it between our check and now: that is what we wanted.
      if (!(createErr instanceof CliError) || createErr.code !== "CONFLICT") throw createErr;
    }
  }
}

export async function statFile(file: string): Promise<{ size: number; mtimeMs: number }> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new CliError("LOCAL_FILE", `${file} is not a regular file`);
    return { size: s.size, mtimeMs: s.mtimeMs };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      "LOCAL_FILE",
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
