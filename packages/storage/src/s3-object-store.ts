import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { AppError } from "@maas/errors";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { knownLength, MeteredStream, toReadable } from "./body.js";
import {
  assertCompletedParts,
  assertExpiry,
  assertKey,
  assertObjectSize,
  assertPartNumber,
  assertPartSize,
  assertPrefix,
  normalizeEtag,
  S3_LIMITS,
} from "./limits.js";
import type {
  Body,
  ByteRange,
  CompletedPart,
  CreateMultipartOptions,
  MultipartUploadInfo,
  ObjectInfo,
  ObjectStore,
  PartInfo,
} from "./object-store.js";
import { choosePartSize } from "./part-size.js";
import { s3ErrorName, toAppError } from "./s3-errors.js";

export interface S3ObjectStoreConfig {
  bucket: string;
  /** e.g. `http://127.0.0.1:59000` for MinIO; omit for AWS. */
  endpoint?: string;
  region?: string;
  /** Omit to use the SDK's default chain (env, web identity, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Path-style URLs (`host/bucket/key`); default true when `endpoint` is set, as MinIO needs. */
  forcePathStyle?: boolean;
  /**
   * Endpoint clients reach from outside (presigned URLs are signed for this host). Default: `endpoint`.
   * In a cluster the functions talk to `minio.svc` while the CLI must PUT to a public name.
   */
  publicEndpoint?: string;
  /** Sockets kept alive per host; default 64 (parallel part uploads plus reads). */
  maxSockets?: number;
  /** Give up connecting after this long; default 3,000 ms so "S3 down" is an error, not a hang. */
  connectionTimeoutMs?: number;
  /** SDK attempts per call (retries on throttling and 5xx); default 3. */
  maxAttempts?: number;
  /**
   * How `listMultipartUploads` filters by prefix. `"server"` passes the prefix to S3 (AWS honours
   * it); `"scan"` lists every upload in the bucket and filters here, because MinIO only matches a
   * prefix that is a whole object key. Default: `"scan"` when `endpoint` is set, else `"server"`.
   */
  uploadListing?: "server" | "scan";
}

/** Paging sizes: S3's maxima. */
const LIST_PAGE = 1000;
/** Part size for puts of unknown length: bounded memory, objects up to 10,000 × 8 MiB ≈ 78 GiB. */
const UNKNOWN_LENGTH_PART = 8 * 1024 * 1024;

/**
 * `ObjectStore` over S3 or MinIO with `@aws-sdk/client-s3`. Clients upload parts straight to S3
 * through presigned URLs; checksums are computed only when an operation requires them
 * (`WHEN_REQUIRED`), so a presigned part URL carries no checksum header and `curl -T` works.
 *
 * @example
 * const store = new S3ObjectStore({
 *   endpoint: "http://127.0.0.1:59000",
 *   bucket: "maas-models",
 *   credentials: { accessKeyId: "maasadmin", secretAccessKey: "maasadmin-secret" },
 * });
 * const url = await store.presignPart(key, uploadId, 1, 3600); // curl -T part1.bin "$url"
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = "s3" as const;
  readonly bucket: string;
  /** The SDK client, for what the interface does not cover (benchmarks, admin scripts). */
  readonly client: S3Client;
  private readonly presignClient: S3Client;
  private readonly agents: { destroy(): void }[];
  private readonly uploadListing: "server" | "scan";

  constructor(config: S3ObjectStoreConfig) {
    this.bucket = config.bucket;
    this.uploadListing = config.uploadListing ?? (config.endpoint === undefined ? "server" : "scan");
    const maxSockets = config.maxSockets ?? 64;
    const httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
    const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets });
    this.agents = [httpAgent, httpsAgent];
    const base = {
      region: config.region ?? "us-east-1",
      forcePathStyle: config.forcePathStyle ?? config.endpoint !== undefined,
      maxAttempts: config.maxAttempts ?? 3,
      // The SDK's default (WHEN_SUPPORTED) adds CRC32 checksums to every upload, which presigned URLs
      // would then demand from clients that cannot send them (curl). Compute only where S3 requires it.
      requestChecksumCalculation: "WHEN_REQUIRED" as const,
      responseChecksumValidation: "WHEN_REQUIRED" as const,
      ...(config.credentials ? { credentials: config.credentials } : {}),
    };
    this.client = new S3Client({
      ...base,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      requestHandler: new NodeHttpHandler({
        httpAgent,
        httpsAgent,
        connectionTimeout: config.connectionTimeoutMs ?? 3000,
      }),
    });
    const publicEndpoint = config.publicEndpoint ?? config.endpoint;
    this.presignClient =
      publicEndpoint === config.endpoint
        ? this.client
        : new S3Client({ ...base, ...(publicEndpoint ? { endpoint: publicEndpoint } : {}) });
  }

  /** Creates the bucket when it does not exist (local setups and tests; production provisions it). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (s3ErrorName(err) !== "NotFound" && s3ErrorName(err) !== "NoSuchBucket")
        throw toAppError(err, "bucket check");
      await this.call("bucket creation", () =>
        this.client.send(new CreateBucketCommand({ Bucket: this.bucket })),
      ).catch((e: unknown) => {
        const name = e instanceof AppError ? (e.details as { s3?: string } | undefined)?.s3 : undefined;
        if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw e;
      });
    }
  }

  async createMultipart(key: string, options: CreateMultipartOptions = {}): Promise<{ uploadId: string }> {
    assertKey(key);
    const out = await this.call(`multipart creation for ${key}`, () =>
      this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
          ...(options.metadata === undefined ? {} : { Metadata: options.metadata }),
        }),
      ),
    );
    if (!out.UploadId) throw new AppError("UPSTREAM_UNAVAILABLE", "object store returned no upload id");
    return { uploadId: out.UploadId };
  }

  async presignPart(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresInSeconds: number,
  ): Promise<string> {
    assertKey(key);
    assertPartNumber(partNumber);
    assertExpiry(expiresInSeconds);
    // Signing is local (no request): an unknown upload id is only refused when the client PUTs.
    return getSignedUrl(
      this.presignClient,
      new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }),
      { expiresIn: expiresInSeconds },
    );
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Body,
    contentLength: number,
  ): Promise<{ etag: string; size: number }> {
    assertKey(key);
    assertPartNumber(partNumber);
    assertPartSize(contentLength);
    const { stream, signal, done } = metered(body, contentLength);
    try {
      const out = await this.call(`part ${partNumber} of upload ${uploadId}`, () =>
        this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: stream,
            ContentLength: contentLength,
          }),
          { abortSignal: signal },
        ),
      );
      return { etag: normalizeEtag(out.ETag), size: contentLength };
    } catch (err) {
      throw stream.errored instanceof AppError ? stream.errored : err;
    } finally {
      done();
    }
  }

  async listParts(key: string, uploadId: string): Promise<PartInfo[]> {
    assertKey(key);
    const parts: PartInfo[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.call(`upload ${uploadId}`, () =>
        this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            MaxParts: LIST_PAGE,
            ...(marker === undefined ? {} : { PartNumberMarker: marker }),
          }),
        ),
      );
      for (const p of page.Parts ?? []) {
        parts.push({ partNumber: p.PartNumber ?? 0, etag: normalizeEtag(p.ETag), size: p.Size ?? 0 });
      }
      if (!page.IsTruncated || page.NextPartNumberMarker === undefined) break;
      marker = page.NextPartNumberMarker;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipart(
    key: string,
    uploadId: string,
    parts: CompletedPart[],
  ): Promise<{ etag: string; size: number }> {
    assertKey(key);
    assertCompletedParts(parts);
    const out = await this.call(`upload ${uploadId}`, () =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${normalizeEtag(p.etag)}"` })),
          },
        }),
      ),
    );
    // Completion does not report the size; the caller verifies it against the declared one.
    const info = await this.head(key);
    if (!info) throw new AppError("UPSTREAM_UNAVAILABLE", `object ${key} missing right after completion`);
    return { etag: normalizeEtag(out.ETag) || info.etag, size: info.size };
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    assertKey(key);
    try {
      await this.call(`upload ${uploadId}`, () =>
        this.client.send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
        ),
      );
    } catch (err) {
      // AWS answers NoSuchUpload for a finished upload, MinIO 204: both mean "nothing left to abort".
      if (!(err instanceof AppError && err.code === "NOT_FOUND")) throw err;
    }
  }

  async listMultipartUploads(prefix: string): Promise<MultipartUploadInfo[]> {
    assertPrefix(prefix, true);
    const uploads: MultipartUploadInfo[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.call("multipart listing", () =>
        this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            ...(this.uploadListing === "server" && prefix !== "" ? { Prefix: prefix } : {}),
            MaxUploads: LIST_PAGE,
            ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
            ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
          }),
        ),
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key?.startsWith(prefix) && u.UploadId) {
          uploads.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? new Date(0) });
        }
      }
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    return uploads;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: out.ContentLength ?? 0,
        etag: normalizeEtag(out.ETag),
        metadata: out.Metadata ?? {},
        ...(out.ContentType === undefined ? {} : { contentType: out.ContentType }),
      };
    } catch (err) {
      const mapped = toAppError(err, `object ${key}`);
      if (mapped.code === "NOT_FOUND") return null;
      throw mapped;
    }
  }

  async getStream(key: string, range: ByteRange = {}): Promise<Readable> {
    assertKey(key);
    const start = range.start ?? 0;
    if (!Number.isSafeInteger(start) || start < 0 || (range.end !== undefined && !(range.end >= start))) {
      throw new AppError("VALIDATION_FAILED", "invalid byte range", { details: { range } });
    }
    const wantsRange = range.start !== undefined || range.end !== undefined;
    const out = await this.call(`object ${key}`, () =>
      this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(wantsRange ? { Range: `bytes=${start}-${range.end ?? ""}` } : {}),
        }),
      ),
    );
    if (!(out.Body instanceof Readable)) {
      throw new AppError("INTERNAL", "S3 response body is not a Node stream");
    }
    return out.Body;
  }

  async put(
    key: string,
    body: Body,
    options: { contentLength?: number; contentType?: string; metadata?: Record<string, string> } = {},
  ): Promise<{ etag: string; size: number }> {
    assertKey(key);
    const length = options.contentLength ?? knownLength(body);
    if (length !== undefined) assertObjectSize(length);
    const extra = {
      ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
      ...(options.metadata === undefined ? {} : { Metadata: options.metadata }),
    };
    const { stream, signal, done } = metered(body, length);
    try {
      if (length !== undefined && length <= S3_LIMITS.maxPartSize) {
        const out = await this.call(`object ${key}`, () =>
          this.client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: key,
              Body: stream,
              ContentLength: length,
              ...extra,
            }),
            { abortSignal: signal },
          ),
        );
        return { etag: normalizeEtag(out.ETag), size: length };
      }
      // Unknown length (or over 5 GiB): S3 needs each request's length up front, so cut the stream
      // into parts, holding one part while the previous one uploads (2 × part size in memory).
      const partSize = length === undefined ? UNKNOWN_LENGTH_PART : choosePartSize(length);
      return await this.putInParts(key, stream, partSize, extra, { signal });
    } catch (err) {
      throw stream.errored instanceof AppError ? stream.errored : err;
    } finally {
      done();
    }
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    await this.call(`object ${key}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
    );
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertPrefix(prefix, false);
    let deleted = 0;
    let token: string | undefined;
    for (;;) {
      const page = await this.call(`listing ${prefix}`, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: LIST_PAGE,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        ),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) {
        const out = await this.call(`deleting ${prefix}`, () =>
          this.client.send(
            new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }),
          ),
        );
        const failed = out.Errors ?? [];
        if (failed.length > 0) {
          throw new AppError(
            "UPSTREAM_UNAVAILABLE",
            `object store kept ${failed.length} objects under ${prefix}`,
            {
              details: { errors: failed.slice(0, 10).map((e) => ({ key: e.Key, code: e.Code })) },
            },
          );
        }
        deleted += keys.length;
      }
      if (!page.IsTruncated || !page.NextContinuationToken) break;
      token = page.NextContinuationToken;
    }
    for (const upload of await this.listMultipartUploads(prefix)) {
      await this.abortMultipart(upload.key, upload.uploadId);
    }
    return deleted;
  }

  /**
   * Writes a stream of unknown length: a plain PutObject when it fits in one part, else a multipart
   * upload that is aborted on any failure, so nothing is left behind.
   */
  private async putInParts(
    key: string,
    stream: MeteredStream,
    partSize: number,
    extra: { ContentType?: string; Metadata?: Record<string, string> },
    abort: { signal: AbortSignal },
  ): Promise<{ etag: string; size: number }> {
    let buffer = Buffer.allocUnsafe(partSize);
    let filled = 0;
    let uploadId: string | undefined;
    let inFlight: Promise<void> = Promise.resolve();
    const parts: CompletedPart[] = [];
    const send = (bytes: Buffer, partNumber: number): Promise<void> =>
      this.call(`part ${partNumber} of ${key}`, () =>
        this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: bytes,
            ContentLength: bytes.length,
          }),
          { abortSignal: abort.signal },
        ),
      ).then((out) => {
        parts[partNumber - 1] = { partNumber, etag: normalizeEtag(out.ETag) };
      });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        let offset = 0;
        while (offset < chunk.length) {
          const n = Math.min(chunk.length - offset, partSize - filled);
          chunk.copy(buffer, filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled < partSize) continue;
          uploadId ??= (
            await this.createMultipart(key, { contentType: extra.ContentType, metadata: extra.Metadata })
          ).uploadId;
          const partNumber = parts.length + 1;
          if (partNumber > S3_LIMITS.maxParts) {
            throw new AppError(
              "VALIDATION_FAILED",
              `object exceeds ${S3_LIMITS.maxParts} parts of ${partSize} bytes`,
            );
          }
          parts.length = partNumber; // reserve the slot; send() fills it
          await inFlight; // at most one part uploading while the next one fills
          inFlight = send(buffer, partNumber);
          buffer = Buffer.allocUnsafe(partSize);
          filled = 0;
        }
      }
      if (uploadId === undefined) {
        const out = await this.call(`object ${key}`, () =>
          this.client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: key,
              Body: buffer.subarray(0, filled),
              ContentLength: filled,
              ...extra,
            }),
            { abortSignal: abort.signal },
          ),
        );
        return { etag: normalizeEtag(out.ETag), size: filled };
      }
      await inFlight;
      if (filled > 0) await send(buffer.subarray(0, filled), parts.length + 1);
      return await this.completeMultipart(key, uploadId, parts);
    } catch (err) {
      await inFlight.catch(() => {});
      if (uploadId !== undefined) await this.abortMultipart(key, uploadId).catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
    if (this.presignClient !== this.client) this.presignClient.destroy();
    for (const agent of this.agents) agent.destroy();
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toAppError(err, what);
    }
  }
}

/**
 * The body as a metered stream (length enforced, not hashed: S3 computes the etag). A body that
 * turns out shorter or longer than declared fails the stream; the SDK would not notice (it keeps the
 * request open waiting for bytes), so that failure aborts the request through `signal`. `done()`
 * tears the pipe down when the SDK stopped reading early, so the source is not left paused.
 */
function metered(
  body: Body,
  length: number | undefined,
): { stream: MeteredStream; signal: AbortSignal; done: () => void } {
  const stream = new MeteredStream(length, { hash: false });
  const controller = new AbortController();
  const source = toReadable(body);
  source.on("error", (err) => stream.destroy(err));
  stream.on("error", (err) => controller.abort(err));
  source.pipe(stream);
  return {
    stream,
    signal: controller.signal,
    done: () => {
      if (!stream.readableEnded) {
        source.unpipe(stream);
        source.destroy();
        stream.destroy();
      }
    },
  };
}
