import type { ModelProto } from "./proto.js";
import { int64, onnx } from "./proto.js";

/**
 * Parsing decodes the whole protobuf in memory (input bytes plus decoded tensors, about twice the file),
 * which is fine up to a few hundred MB. Multi-GB models must not come through here: the pipeline checks
 * size and SHA-256 by streaming and refuses to parse above its limit.
 */
export const PARSE_LIMIT_BYTES = 1024 * 1024 * 1024;

export type ParseResult = { ok: true; model: ModelProto } | { ok: false; reason: string };

/** Why a byte string is not an ONNX model, phrased for the person who uploaded it. */
export class OnnxFormatError extends Error {
  override readonly name = "OnnxFormatError";
}

/**
 * Decodes ONNX protobuf bytes, returning a reason instead of throwing for files that are not models.
 *
 * @example
 * const r = tryParseModel(await readFile("model.onnx"));
 * if (!r.ok) console.error(r.reason);
 */
export function tryParseModel(bytes: Uint8Array): ParseResult {
  if (bytes.byteLength === 0) return { ok: false, reason: "the file is empty" };
  if (bytes.byteLength > PARSE_LIMIT_BYTES) {
    return {
      ok: false,
      reason: `the file is ${bytes.byteLength} bytes; models above ${PARSE_LIMIT_BYTES} bytes are not parsed in memory`,
    };
  }
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `the file is not an ONNX protobuf (decoding failed: ${detail})` };
  }
  // Protobuf decoding accepts many byte strings (unknown fields are skipped), so check for what
  // every real ONNX model has: an IR version and a graph.
  if (int64(model.irVersion) <= 0) {
    return { ok: false, reason: "the file is not an ONNX model: it has no ir_version" };
  }
  if (!model.graph) return { ok: false, reason: "the file is not an ONNX model: it has no graph" };
  return { ok: true, model };
}

/**
 * Decodes ONNX protobuf bytes into a ModelProto; throws OnnxFormatError with a readable reason.
 *
 * @example
 * const model = parseModel(bytes);
 * console.log(model.graph?.node?.length);
 */
export function parseModel(bytes: Uint8Array): ModelProto {
  const result = tryParseModel(bytes);
  if (!result.ok) throw new OnnxFormatError(result.reason);
  return result.model;
}
