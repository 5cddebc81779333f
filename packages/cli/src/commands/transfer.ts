import type { Dispatcher } from "undici";
import type { ApiClient } from "../api-client.js";
import type { Upload, UploadedPart } from "../api-schemas.js";
import { CliError } from "../cli-error.js";
import type { CliIo } from "../cli-io.js";
import { formatBytes } from "../error-messages.js";
import { createProgress } from "../progress.js";
import { removeResumeState } from "../resume-state.js";
import { createRetryPolicy } from "../retry-policy.js";
import { missingParts, partRange, uploadParts } from "../upload-runner.js";

export interface TransferInput {
  io: CliIo;
  api: ApiClient;
  dispatcher: Dispatcher;
  configDir: string;
  upload: Upload;
  serverParts: UploadedPart[];
  file: string;
  parallel: number;
  model: string;
}

export function resumeHint(uploadId: string): string {
  return `maas uploads resume ${uploadId}`;
}

/**
 * Sends the parts the server lacks, completes the upload and prints the new version. Ctrl-C (or a
 * failure) leaves the upload and its resume state in place and prints the resume command.
 */
export async function transferAndComplete(input: TransferInput): Promise<void> {
  const { io, api, upload } = input;
  const todo = missingParts(upload, input.serverParts);
  const done =
    upload.sizeBytes -
    todo.reduce((s, n) => {
      const r = partRange(n, upload.sizeBytes, upload.partSize);
      return s + (r.end - r.start);
    }, 0);
  const plain = io.env.MAAS_PROGRESS === "plain" || io.stderr.isTTY !== true;
  const interval = Number(io.env.MAAS_PROGRESS_INTERVAL_MS);
  if (todo.length < upload.partCount) {
    io.stderr.write(
      `resuming: ${upload.partCount - todo.length} of ${upload.partCount} parts already on the server\n`,
    );
  }
  const bar = createProgress({
    label: "upload",
    total: upload.sizeBytes,
    initial: done,
    out: io.stderr,
    tty: !plain,
    ...(Number.isFinite(interval) && interval > 0 ? { intervalMs: interval } : {}),
  });
  try {
    await uploadParts({
      api,
      upload,
      parts: todo,
      file: input.file,
      parallel: input.parallel,
      dispatcher: input.dispatcher,
      onBytes: (n) => bar.add(n),
      onRetry: (n, attempt, err) => {
        if (plain)
          io.stderr.write(
            `retrying part ${n} (attempt ${attempt + 1}): ${(err as Error | undefined)?.message ?? "failed"}\n`,
          );
      },
      ...(io.signal ? { signal: io.signal } : {}),
      ...(io.retry ? { retry: io.retry } : {}),
    });
    bar.finish();
  } catch (err) {
    bar.stop();
    if (io.signal?.aborted || (err instanceof CliError && err.code === "INTERRUPTED")) {
      io.stderr.write(
        `upload paused at ${formatBytes(bar.done)} of ${formatBytes(upload.sizeBytes)}; resume with:\n  ${resumeHint(upload.id)}\n`,
      );
      throw new CliError("INTERRUPTED", "interrupted");
    }
    io.stderr.write(`the upload can be resumed with: ${resumeHint(upload.id)}\n`);
    throw err;
  }
  const policy = createRetryPolicy(io.retry);
  const { version } = await policy.execute(() => api.completeUpload(upload.id), io.signal);
  if (version.sha256 !== undefined && version.sha256 !== upload.sha256) {
    throw new CliError(
      "BAD_RESPONSE",
      `the server recorded sha256 ${version.sha256}, expected ${upload.sha256}`,
    );
  }
  await removeResumeState(input.configDir, upload.id);
  io.stdout.write(
    `pushed ${input.model} version ${version.version} (${version.id}): ${formatBytes(upload.sizeBytes)}, sha256 ${upload.sha256}, status ${version.status}\n`,
  );
}
