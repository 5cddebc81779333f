/** The bundled onnxruntime-node, for callers (bench, scripts) whose package does not depend on it. */
export * as ort from "onnxruntime-node";
export type { Dim, ModelSpec } from "./builder.js";
export {
  attr,
  buildModel,
  ElemType,
  encodeModel,
  floatTensor,
  int64Tensor,
  node,
  rawTensor,
  tensorInfo,
} from "./builder.js";
export type { CompareOptions, CompareResult, Feeds } from "./compare.js";
export { compareVariants, generateFeeds } from "./compare.js";
export type { V2Datatype } from "./dtypes.js";
export { onnxTypeName, v2Datatype } from "./dtypes.js";
export { fromFloat16Bytes, toFloat16Bytes } from "./float16.js";
export type { Fp16Options, Fp16Report } from "./fp16.js";
export { FP16_BLOCK_LIST, toFp16 } from "./fp16.js";
export type { Int8Options, Int8Report } from "./int8.js";
export { quantizeInt8, toInt8 } from "./int8.js";
export { ORT_SUPPORT } from "./ort-support.js";
export type { ParseResult } from "./parse.js";
export { OnnxFormatError, PARSE_LIMIT_BYTES, parseModel, tryParseModel } from "./parse.js";
export type { GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from "./proto.js";
export { int64, onnx } from "./proto.js";
export { fillNormal, seededRandom } from "./random.js";
export type { ModelSignature, TensorSpec } from "./signature.js";
export { extractSignature } from "./signature.js";
export type { StreamedInitializer } from "./streaming-writer.js";
export { MAX_STREAMED_MODEL_BYTES, streamModelBytes, writeStreamedModel } from "./streaming-writer.js";
export type { ValidationCode, ValidationProblem, ValidationResult } from "./validate.js";
export { validateModel } from "./validate.js";
export * as zoo from "./zoo.js";
