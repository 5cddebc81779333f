import type { Readable } from "node:stream";

export interface PassThroughEnd {
  outcome: "completed" | "aborted" | "failed";
  bytes: number;
}

/**
 * The upstream's body as a web stream for the client, byte for byte (never parsed), calling `onEnd`
 * exactly once: when the last byte was handed on, when the client went away (the server cancels the
 * stream; the upstream body is destroyed so its connection frees), or when the upstream failed.
 */
export function passThrough(
  body: Readable,
  onEnd: (end: PassThroughEnd) => void,
): ReadableStream<Uint8Array> {
  let bytes = 0;
  let ended = false;
  const end = (outcome: PassThroughEnd["outcome"]) => {
    if (ended) return;
    ended = true;
    onEnd({ outcome, bytes });
  };
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await iterator.next();
          if (done) {
            controller.close();
            end("completed");
            return;
          }
          bytes += value.byteLength;
          controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        } catch (err) {
          controller.error(err);
          end(ended ? "completed" : "failed");
        }
      },
      cancel() {
        body.destroy();
        end("aborted");
      },
    },
    { highWaterMark: 0 },
  );
}
