import type { Readable } from "node:stream";

/** A request body: a Node stream, any async iterable of bytes, or bytes already in memory. */
export type Body = Readable | AsyncIterable<Uint8Array> | Uint8Array;

export interface CreateMultipartOptions {
  contentType?: string;
  /** User metadata stored with the final object (S3 lower-cases the keys; so does FsObjectStore). */
  metadata?: Record<string, string>;
}

export interface PartInfo {
  partNumber: number;
  /** Lower-case hex, without the quotes S3 puts around it. */
  etag: string;
  size: number;
}

/** What `completeMultipart` needs per part: the number and the etag `uploadPart` returned. */
export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface ObjectInfo {
  size: number;
  /** Lower-case hex md5 for single-part objects; `md5(md5s)-N` for multipart ones, like S3. */
  etag: string;
  contentType?: string;
  metadata: Record<string, string>;
}

export interface MultipartUploadInfo {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`; `end` past the object is clamped. */
export interface ByteRange {
  start?: number;
  end?: number;
}

/**
 * The object storage the platform needs: S3 multipart semantics (so a multi-GiB model survives a
 * flaky connection) plus plain object reads and writes. Two implementations pass one contract suite
 * (`@maas/storage/testing`): `S3ObjectStore` (S3/MinIO) and `FsObjectStore` (embedded, a folder).
 *
 * Every body is streamed; no method holds a whole part or object in memory.
 * Failures are `AppError`s: NOT_FOUND (missing upload or object), VALIDATION_FAILED (bad key, part
 * number, size, part list or range), UPSTREAM_UNAVAILABLE (the store cannot be reached).
 */
export interface ObjectStore {
  readonly kind: "s3" | "fs";

  /** Starts a multipart upload; parts go to `uploadPart` or to the URLs of `presignPart`. */
  createMultipart(key: string, options?: CreateMultipartOptions): Promise<{ uploadId: string }>;

  /**
   * A URL a stock client can `PUT` the part's bytes to (`curl -T part.bin <url>`), or `null` when this
   * store cannot presign: the API then accepts the part itself and calls `uploadPart`.
   */
  presignPart(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresInSeconds: number,
  ): Promise<string | null>;

  /** Streams one part (1..10,000, ≤ 5 GiB); the body must hold exactly `contentLength` bytes. Re-uploading a number replaces it. */
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Body,
    contentLength: number,
  ): Promise<{ etag: string; size: number }>;

  /** Every uploaded part, ascending, all pages: what a client needs to resume. */
  listParts(key: string, uploadId: string): Promise<PartInfo[]>;

  /** Joins the parts (ascending, each but the last ≥ 5 MiB, etags must match) into the object. */
  completeMultipart(
    key: string,
    uploadId: string,
    parts: CompletedPart[],
  ): Promise<{ etag: string; size: number }>;

  /** Drops the upload and its parts. Idempotent: an unknown or finished upload is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;

  /** In-progress uploads whose key starts with `prefix` (plain string match), all pages: for the cleanup job. */
  listMultipartUploads(prefix: string): Promise<MultipartUploadInfo[]>;

  /** Size and etag of an object, or `null` when there is none. */
  head(key: string): Promise<ObjectInfo | null>;

  /** Streams an object or an inclusive byte range of it; NOT_FOUND if missing. */
  getStream(key: string, range?: ByteRange): Promise<Readable>;

  /** Writes a whole object atomically (readers see the old or the new one, never half). */
  put(
    key: string,
    body: Body,
    options?: { contentLength?: number; contentType?: string; metadata?: Record<string, string> },
  ): Promise<{ etag: string; size: number }>;

  /** Deletes an object; deleting a missing one is not an error (as in S3). */
  delete(key: string): Promise<void>;

  /** Deletes every object and aborts every upload under a non-empty prefix; returns the objects deleted. */
  deletePrefix(prefix: string): Promise<number>;

  /** Releases sockets or handles. */
  close(): Promise<void>;
}
