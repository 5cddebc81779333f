import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ModelProto, TensorProto } from "./proto.js";
import { onnx } from "./proto.js";

/** Protobuf field numbers from onnx.proto that the framing below writes by hand. */
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const WIRE_LEN = 2;

/** Protobuf caps a message at 2 GiB; onnxruntime refuses anything larger in one file. */
export const MAX_STREAMED_MODEL_BYTES = 2 ** 31 - 1;

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}

function lengthField(field: number, length: number): Uint8Array {
  const tag = varint((field << 3) | WIRE_LEN);
  const len = varint(length);
  const out = new Uint8Array(tag.length + len.length);
  out.set(tag);
  out.set(len, tag.length);
  return out;
}

export interface StreamedInitializer {
  /** The tensor's header: name, dims, data_type; its data comes from `chunks`. */
  tensor: Omit<TensorProto, "rawData">;
  /** Exact number of raw bytes `chunks` will yield. */
  byteLength: number;
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/**
 * The bytes of a model whose one large initializer is streamed rather than held in memory. Protobuf
 * fields may come in any order and repeated fields concatenate, so the model (without the big tensor)
 * is encoded normally and the big tensor is appended as one more `initializer` of the graph, framed by
 * hand: the lengths are known in advance from `byteLength`.
 *
 * @example
 * await pipeline(Readable.from(streamModelBytes(model, big)), createWriteStream("big.onnx"));
 */
export async function* streamModelBytes(
  model: ModelProto,
  big: StreamedInitializer,
): AsyncGenerator<Uint8Array> {
  const { graph, ...rest } = model;
  const head = onnx.ModelProto.encode(onnx.ModelProto.create({ ...rest, graph: undefined })).finish();
  const graphBytes = onnx.GraphProto.encode(graph ?? {}).finish();
  const tensorHead = onnx.TensorProto.encode(big.tensor).finish();
  const rawField = lengthField(TENSOR_RAW_DATA, big.byteLength);
  const tensorLength = tensorHead.length + rawField.length + big.byteLength;
  const initField = lengthField(GRAPH_INITIALIZER, tensorLength);
  const graphLength = graphBytes.length + initField.length + tensorLength;
  const graphField = lengthField(MODEL_GRAPH, graphLength);
  const total = head.length + graphField.length + graphLength;
  if (total > MAX_STREAMED_MODEL_BYTES) {
    throw new RangeError(`a single-file ONNX model must stay below 2 GiB; this one would be ${total} bytes`);
  }
  yield head;
  yield graphField;
  yield graphBytes;
  yield initField;
  yield tensorHead;
  yield rawField;
  let written = 0;
  for await (const chunk of big.chunks) {
    written += chunk.byteLength;
    if (written > big.byteLength)
      throw new RangeError(`initializer data exceeds the declared ${big.byteLength} bytes`);
    yield chunk;
  }
  if (written !== big.byteLength) {
    throw new RangeError(`initializer data is ${written} bytes, ${big.byteLength} were declared`);
  }
}

/**
 * Writes such a model to a file with backpressure: memory stays at one chunk whatever the model size.
 * Returns the number of bytes written.
 *
 * @example
 * await writeStreamedModel("big.onnx", model, { tensor, byteLength, chunks });
 */
export async function writeStreamedModel(
  path: string,
  model: ModelProto,
  big: StreamedInitializer,
): Promise<number> {
  let bytes = 0;
  const counted = (async function* () {
    for await (const chunk of streamModelBytes(model, big)) {
      bytes += chunk.byteLength;
      yield chunk;
    }
  })();
  await pipeline(Readable.from(counted, { objectMode: false }), createWriteStream(path));
  return bytes;
}
