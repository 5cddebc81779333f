import { createReadStream } from "node:fs";
import { Transform } from "node:stream";
import { type Dispatcher, request } from "undici";
import { CliError } from "./cli-error.js";

export interface PutPartInput {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  file: string;
  /** Byte range of the part in the file: `start` inclusive, `end` exclusive. */
  start: number;
  end: number;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  /** Called as bytes leave for the socket (progress); negative when a failed attempt is taken back. */
  onBytes?: (n: number) => void;
}

/**
 * PUTs one part straight from the file: the body is a read stream of the part's byte range (never the
 * whole part in memory) with an explicit Content-Length, as presigned S3 PUTs require. Returns the
 * ETag. A failed attempt reports its bytes back through `onBytes(-sent)` so progress stays honest.
 *
 * @example
 * const etag = await putPart({ url, file: "model.onnx", start: 0, end: 8 * 1024 * 1024 });
 */
export async function putPart(input: PutPartInput): Promise<string> {
  const size = input.end - input.start;
  let sent = 0;
  const count = (n: number) => {
    sent += n;
    input.onBytes?.(n);
  };
  let body: Transform | Buffer;
  if (size === 0) {
    body = Buffer.alloc(0);
  } else {
    const source = createReadStream(input.file, {
      start: input.start,
      end: input.end - 1,
      highWaterMark: 1024 * 1024,
    });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        count(chunk.length);
        done(null, chunk);
      },
    });
    source.on("error", (err) => counter.destroy(err));
    // If the request dies, stop reading the file too.
    counter.on("close", () => source.destroy());
    source.pipe(counter);
    body = counter;
  }
  try {
    const res = await request(input.url, {
      method: (input.method ?? "PUT") as Dispatcher.HttpMethod,
      headers: { ...input.headers, "content-length": String(size) },
      body,
      ...(input.dispatcher ? { dispatcher: input.dispatcher } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw partError(res.statusCode, text);
    }
    const etag = res.headers.etag;
    const value = Array.isArray(etag) ? etag[0] : etag;
    if (!value)
      throw new CliError("BAD_RESPONSE", "the part upload answered without an ETag", { retryable: true });
    return value.replaceAll('"', "");
  } catch (err) {
    if (sent !== 0) input.onBytes?.(-sent);
    if (err instanceof CliError) throw err;
    if (input.signal?.aborted) throw new CliError("INTERRUPTED", "interrupted", { cause: err });
    throw new CliError("NETWORK", (err as Error).message || String(err), { retryable: true, cause: err });
  } finally {
    if (body instanceof Transform && !body.destroyed) body.destroy();
  }
}

/** S3 answers XML, the API answers its JSON body; either way a 5xx/408/429 or an expired URL is worth a retry. */
function partError(status: number, text: string): CliError {
  const s3Code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  const s3Message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1];
  let apiCode: string | undefined;
  let apiMessage: string | undefined;
  try {
    const json = JSON.parse(text) as { error?: { code?: string; message?: string } };
    apiCode = json.error?.code;
    apiMessage = json.error?.message;
  } catch {
    // not JSON: S3 XML or a proxy's page
  }
  const expired = s3Code === "AccessDenied" && /expired/i.test(s3Message ?? "");
  const retryable = expired || status === 408 || status === 429 || status >= 500;
  const what = s3Code ?? apiCode ?? `HTTP ${status}`;
  return new CliError("PART_UPLOAD_FAILED", `${what}: ${s3Message ?? apiMessage ?? text.slice(0, 200)}`, {
    status,
    retryable,
    details: { expired, s3Code, apiCode },
  });
}
