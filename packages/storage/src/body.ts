import { createHash, type Hash } from "node:crypto";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { AppError } from "@maas/errors";
import type { Body } from "./object-store.js";

/** Any accepted body as a Node stream (bytes in memory become a one-chunk stream). */
export function toReadable(body: Body): Readable {
  if (body instanceof Readable) return body;
  if (body instanceof Uint8Array) return Readable.from([body], { objectMode: false });
  return Readable.from(body, { objectMode: false });
}

/** The byte length of a body when it is known without reading it. */
export function knownLength(body: Body): number | undefined {
  return body instanceof Uint8Array ? body.byteLength : undefined;
}

/**
 * A pass-through that counts bytes, hashes them with md5 (S3's etag) and fails the stream when the
 * body is longer or shorter than declared, so a truncated client upload never becomes a part.
 */
export class MeteredStream extends Transform {
  private readonly hash: Hash | undefined;
  bytes = 0;
  private held: Buffer | undefined;

  /** `hash: false` when the store computes the etag itself (S3), to spare the CPU. */
  constructor(
    private readonly expected: number | undefined,
    options: { hash?: boolean } = {},
  ) {
    // 1 MiB buffers: fewer, larger writes to disk or socket; memory stays bounded by a few of them.
    super({ highWaterMark: 1024 * 1024 });
    this.hash = options.hash === false ? undefined : createHash("md5");
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.byteLength;
    if (this.expected !== undefined && this.bytes > this.expected) {
      callback(sizeMismatch(this.expected, this.bytes, "more"));
      return;
    }
    this.hash?.update(chunk);
    if (this.expected !== undefined && this.bytes === this.expected) {
      // Hold the chunk that completes the declared length until the source ends: a receiver that
      // counts bytes (S3) would otherwise accept the part before an extra byte shows the body too long.
      this.held = chunk;
      callback();
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.expected !== undefined && this.bytes !== this.expected) {
      callback(sizeMismatch(this.expected, this.bytes, "fewer"));
      return;
    }
    callback(null, this.held);
  }

  /** md5 hex of everything that passed; call once, after the stream finished. */
  md5(): string {
    if (!this.hash) throw new Error("MeteredStream created without hashing");
    return this.hash.digest("hex");
  }
}

function sizeMismatch(expected: number, got: number, which: "more" | "fewer"): AppError {
  return new AppError(
    "VALIDATION_FAILED",
    `body has ${which} bytes than the declared content length ${expected}${which === "fewer" ? ` (got ${got})` : ""}`,
    { details: { expected, received: got } },
  );
}
