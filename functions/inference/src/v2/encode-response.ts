import { type HostTensor, tensorBytes } from "../tensor.js";
import { INFERENCE_HEADER, type RequestedOutput } from "./decode-request.js";

export interface EncodeOptions {
  modelName: string;
  modelVersion: string;
  id?: string;
  outputs: readonly RequestedOutput[];
  binaryByDefault: boolean;
  parameters?: Record<string, number | string | boolean>;
}

export interface EncodedResponse {
  body: Uint8Array | string;
  headers: Record<string, string>;
}

function jsonData(t: HostTensor): unknown[] {
  switch (t.datatype) {
    case "INT64":
    case "UINT64":
      // v2 JSON carries numbers; values beyond 2^53 lose precision (use binary data for those).
      return Array.from(t.data as BigInt64Array, (v) => Number(v));
    case "BOOL":
      return Array.from(t.data as Uint8Array, (v) => v !== 0);
    case "FP16": {
      const F16 = (
        globalThis as unknown as {
          Float16Array: new (b: ArrayBufferLike, o: number, n: number) => ArrayLike<number>;
        }
      ).Float16Array;
      return Array.from(new F16(t.data.buffer, t.data.byteOffset, t.data.length));
    }
    default:
      return Array.from(t.data as Float32Array);
  }
}

/**
 * Encodes a v2 inference response: JSON, or — when any output is asked for as binary — the binary
 * tensor data extension (JSON header, then each binary output's bytes in output order, with the
 * header's size in `Inference-Header-Content-Length`).
 *
 * @example
 * const { body, headers } = encodeInferResponse(outputs, { modelName: "m", modelVersion: "1", outputs: [], binaryByDefault: false });
 */
export function encodeInferResponse(tensors: readonly HostTensor[], options: EncodeOptions): EncodedResponse {
  const wanted =
    options.outputs.length > 0
      ? options.outputs
      : tensors.map((t) => ({ name: t.name, binary: options.binaryByDefault }));
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const chunks: Uint8Array[] = [];
  const outputs = wanted.map((w) => {
    const t = byName.get(w.name);
    if (!t) throw new Error(`the model did not produce output "${w.name}"`);
    const head = { name: t.name, datatype: t.datatype, shape: t.shape };
    if (!w.binary) return { ...head, data: jsonData(t) };
    const bytes = tensorBytes(t.data);
    chunks.push(bytes);
    return { ...head, parameters: { binary_data_size: bytes.byteLength } };
  });
  const json = JSON.stringify({
    model_name: options.modelName,
    model_version: options.modelVersion,
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.parameters ? { parameters: options.parameters } : {}),
    outputs,
  });
  if (chunks.length === 0) return { body: json, headers: { "content-type": "application/json" } };
  const header = new TextEncoder().encode(json);
  const total = header.byteLength + chunks.reduce((n, c) => n + c.byteLength, 0);
  const body = new Uint8Array(total);
  body.set(header, 0);
  let at = header.byteLength;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return {
    body,
    headers: { "content-type": "application/octet-stream", [INFERENCE_HEADER]: String(header.byteLength) },
  };
}
