/**
 * The client's request body on its way to the inference service, in one of two shapes:
 * - buffered: a body of known, small length read whole (one write to the upstream, no web stream per
 *   request; the bytes are never parsed). Always safe to resend after a connect error.
 * - streamed: an async iterable over the client's stream that counts bytes, for large or
 *   unknown-length bodies. It can be iterated again only while nothing was read: exactly the
 *   condition under which a retry is safe (the upstream provably received no byte of it).
 */
export class RequestBody {
  bytesRead = 0;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private readonly bytes: Uint8Array | undefined;

  /** A stream to pass on, bytes already read whole, or null (no body). */
  constructor(stream: ReadableStream<Uint8Array> | Uint8Array | null) {
    if (stream instanceof Uint8Array) {
      this.bytes = stream;
      this.bytesRead = stream.byteLength;
    } else {
      this.reader = stream?.getReader();
    }
  }

  get empty(): boolean {
    return this.reader === undefined && this.bytes === undefined;
  }

  /** Whether sending it again cannot duplicate or corrupt what the upstream received. */
  get retryable(): boolean {
    return this.bytes !== undefined || this.bytesRead === 0;
  }

  /** What undici sends: the bytes, a fresh iterable over the (shared) reader, or nothing. */
  payload(): Uint8Array | AsyncIterable<Uint8Array> | null {
    if (this.bytes !== undefined) return this.bytes;
    if (this.reader === undefined) return null;
    if (this.bytesRead > 0) throw new Error("request body already partly sent");
    const reader = this.reader;
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        // No finally/cancel: an attempt that ends before reading leaves the reader usable for the next.
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          self.bytesRead += value.byteLength;
          yield value;
        }
      },
    };
  }

  cancel(): void {
    this.reader?.cancel().catch(() => undefined);
  }
}
