import type { Dispatcher } from "undici";
import type { ApiClient } from "./api-client.js";
import type { PartUrl, Upload, UploadedPart } from "./api-schemas.js";
import { CliError } from "./cli-error.js";
import { putPart } from "./part-uploader.js";
import { createRetryPolicy, type RetryOptions } from "./retry-policy.js";

/** Byte range of part `n` (1-based): `start` inclusive, `end` exclusive; the last part is the remainder. */
export function partRange(n: number, sizeBytes: number, partSize: number): { start: number; end: number } {
  const start = (n - 1) * partSize;
  return { start, end: Math.min(start + partSize, sizeBytes) };
}

/**
 * Part numbers the server does not hold yet with the right size, ascending. A part of the wrong size
 * (a torn earlier attempt) is uploaded again; S3 replaces a part re-uploaded under the same number.
 */
export function missingParts(
  upload: Pick<Upload, "sizeBytes" | "partSize" | "partCount">,
  uploaded: UploadedPart[],
): number[] {
  const have = new Map(uploaded.map((p) => [p.partNumber, p.size]));
  const missing: number[] = [];
  for (let n = 1; n <= upload.partCount; n++) {
    const { start, end } = partRange(n, upload.sizeBytes, upload.partSize);
    if (have.get(n) !== end - start) missing.push(n);
  }
  return missing;
}

export interface UploadPartsInput {
  api: ApiClient;
  upload: Pick<Upload, "id" | "sizeBytes" | "partSize" | "partCount">;
  /** Parts to send (from `missingParts`). */
  parts: number[];
  file: string;
  /** Parts in flight at once. */
  parallel: number;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
  onPartDone?: (partNumber: number) => void;
  /** Called before each retry of a part, for a log line. */
  onRetry?: (partNumber: number, attempt: number, err: unknown) => void;
  retry?: RetryOptions;
  /** Part URLs asked for per call (the API allows 1000); default max(4 × parallel, 32). */
  urlBatchSize?: number;
}

/** URLs expiring within this margin are asked for again before use. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * Uploads `parts` of `file` with `parallel` workers: part URLs are fetched in batches just ahead of
 * the workers (a presigned URL has an expiry, so not all 10,000 up front), each part is retried with
 * backoff and jitter, and an expired URL is fetched again. The first part that fails for good (after
 * its retries, or a non-retryable answer) stops the others and is thrown.
 *
 * @example
 * await uploadParts({ api, upload, parts: missingParts(upload, serverParts), file, parallel: 8 });
 */
export async function uploadParts(input: UploadPartsInput): Promise<void> {
  const internal = new AbortController();
  const onOuterAbort = () => internal.abort(input.signal?.reason);
  if (input.signal?.aborted) throw new CliError("INTERRUPTED", "interrupted");
  input.signal?.addEventListener("abort", onOuterAbort, { once: true });

  const endpointOrigin = new URL(input.api.endpoint).origin;
  const batchSize = Math.min(1000, input.urlBatchSize ?? Math.max(4 * input.parallel, 32));
  const urls = new Map<number, PartUrl>();
  const pendingBatches = new Map<number, Promise<void>>();
  const queue = [...input.parts];
  let next = 0;

  const fresh = (u: PartUrl | undefined): u is PartUrl =>
    u !== undefined && (u.expiresAt === undefined || Date.parse(u.expiresAt) - Date.now() > EXPIRY_MARGIN_MS);

  const urlFor = async (n: number): Promise<PartUrl> => {
    for (let round = 0; round < 3; round++) {
      const cached = urls.get(n);
      if (fresh(cached)) return cached;
      const inflight = pendingBatches.get(n);
      if (inflight) {
        await inflight;
        continue;
      }
      // This part plus the next ones the workers will want, skipping those already known or asked for.
      const batch = [n];
      for (let i = next; i < queue.length && batch.length < batchSize; i++) {
        const m = queue[i]!;
        if (m !== n && !fresh(urls.get(m)) && !pendingBatches.has(m)) batch.push(m);
      }
      const fetching = input.api.partUrls(input.upload.id, batch).then((res) => {
        for (const p of res.parts) urls.set(p.partNumber, p);
      });
      const settled = fetching.finally(() => {
        for (const m of batch) pendingBatches.delete(m);
      });
      for (const m of batch) pendingBatches.set(m, settled);
      await settled;
    }
    const u = urls.get(n);
    if (!u) throw new CliError("BAD_RESPONSE", `the server gave no URL for part ${n}`);
    return u;
  };

  const policy = createRetryPolicy(input.retry);
  const lastError = new Map<number, unknown>();

  const sendPart = async (n: number): Promise<void> => {
    const { start, end } = partRange(n, input.upload.sizeBytes, input.upload.partSize);
    await policy.execute(async ({ signal, attempt }) => {
      if (attempt > 0) input.onRetry?.(n, attempt, lastError.get(n));
      const u = await urlFor(n);
      const sameOrigin = new URL(u.url).origin === endpointOrigin;
      try {
        await putPart({
          url: u.url,
          method: u.method,
          // The API's own part endpoint (embedded mode) needs the key; a presigned S3 URL must not get it.
          headers: sameOrigin ? { ...u.headers, authorization: `Bearer ${input.api.apiKey}` } : u.headers,
          file: input.file,
          start,
          end,
          signal,
          ...(input.dispatcher ? { dispatcher: input.dispatcher } : {}),
          ...(input.onBytes ? { onBytes: input.onBytes } : {}),
        });
      } catch (err) {
        // An expired presigned URL: forget it so the retry asks for a new one.
        if (err instanceof CliError && (err.details as { expired?: boolean } | undefined)?.expired)
          urls.delete(n);
        lastError.set(n, err);
        throw err;
      }
    }, internal.signal);
    urls.delete(n);
    input.onPartDone?.(n);
  };

  const worker = async () => {
    while (next < queue.length) {
      if (internal.signal.aborted) return;
      const n = queue[next++]!;
      await sendPart(n);
    }
  };

  try {
    const workers = Array.from({ length: Math.max(1, Math.min(input.parallel, queue.length)) }, () =>
      worker().catch((err: unknown) => {
        internal.abort(err);
        throw err;
      }),
    );
    const results = await Promise.allSettled(workers);
    if (input.signal?.aborted) throw new CliError("INTERRUPTED", "interrupted");
    // The first real failure, not the cancellations it caused in the other workers.
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
    const first = failures.find((e) => !(e instanceof CliError && e.code === "INTERRUPTED")) ?? failures[0];
    if (first !== undefined) throw toCliError(first);
  } finally {
    input.signal?.removeEventListener("abort", onOuterAbort);
  }
}

function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  return new CliError("PART_UPLOAD_FAILED", err instanceof Error ? err.message : String(err), { cause: err });
}
