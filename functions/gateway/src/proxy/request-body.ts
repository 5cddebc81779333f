/**
 * The client's request body, handed to undici as an async iterable that counts bytes. It can be
 * iterated again only while nothing was read: exactly the condition under which a retry is safe
 * (the upstream provably received no byte of it).
 */
export class RequestBody {
  bytesRead = 0;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(stream: ReadableStream<Uint8Array> | null) {
    this.reader = stream?.getReader();
  }

  get empty(): boolean {
    return this.reader === undefined;
  }

  /** A fresh iterable over the (shared) reader; throws once bytes were consumed. */
  iterable(): AsyncIterable<Uint8Array> | undefined {
    if (this.reader === undefined) return undefined;
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
