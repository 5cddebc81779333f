import { Readable } from "node:stream";
import type { Dispatcher } from "undici";

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** An upstream's answer: its body read whole (declared length within the buffer limit) or streaming. */
export type UpstreamAnswer =
  | { statusCode: number; headers: UpstreamHeaders; bytes: Buffer; body?: never }
  | { statusCode: number; headers: UpstreamHeaders; bytes?: never; body: Readable };

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler["onRequestStart"]>>[0];

/**
 * One request's undici dispatch handler, in place of `pool.request()`: an answer whose declared
 * length is at most `bufferBytes` is collected into one Buffer and resolved at its end (no stream,
 * no async resource, no promise per read); any other resolves at its headers with a Readable that
 * applies backpressure (pause/resume) and aborts the upstream request when destroyed. `signal`
 * aborts it at any point. Errors before the answer resolves reject; after, they destroy the stream.
 *
 * @example
 * const answer = await new Promise((resolve, reject) =>
 *   pool.dispatch(options, new AnswerHandler(resolve, reject, 1 << 20, signal)));
 */
export class AnswerHandler implements Dispatcher.DispatchHandler {
  private controller: Controller | undefined;
  private statusCode = 0;
  private headers: UpstreamHeaders = {};
  private chunks: Buffer[] | undefined;
  private stream: Readable | undefined;
  private done = false;
  private readonly onAbort = () => this.controller?.abort(this.signal.reason);

  constructor(
    private readonly resolve: (answer: UpstreamAnswer) => void,
    private readonly reject: (err: unknown) => void,
    private readonly bufferBytes: number,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    // Aborted before undici started it (a retry or a queued request): abort it now.
    if (this.signal.aborted) controller.abort(this.signal.reason);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: UpstreamHeaders): void {
    if (statusCode < 200) return; // 1xx: informational, the real answer follows
    this.statusCode = statusCode;
    this.headers = headers;
    const length = Number(headers["content-length"]);
    if (Number.isInteger(length) && length <= this.bufferBytes) {
      this.chunks = [];
      return;
    }
    const stream = new Readable({
      read: () => controller.resume(),
      destroy: (err, callback) => {
        // The consumer gave up (the client went away): the upstream request goes too.
        if (!this.done) controller.abort(err ?? new Error("upstream answer abandoned"));
        callback(err);
      },
    });
    this.stream = stream;
    this.resolve({ statusCode, headers, body: stream });
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.chunks !== undefined) {
      this.chunks.push(chunk);
    } else if (this.stream !== undefined && !this.stream.push(chunk)) {
      controller.pause();
    }
  }

  onResponseEnd(): void {
    this.finish();
    if (this.stream !== undefined) {
      this.stream.push(null);
      return;
    }
    const chunks = this.chunks ?? [];
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    this.resolve({ statusCode: this.statusCode, headers: this.headers, bytes });
  }

  onResponseError(_controller: Controller, err: Error): void {
    this.finish();
    if (this.stream !== undefined) this.stream.destroy(err);
    else this.reject(err);
  }

  private finish(): void {
    this.done = true;
    this.signal.removeEventListener("abort", this.onAbort);
  }
}
