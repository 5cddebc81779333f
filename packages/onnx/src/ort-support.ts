/**
 * What the bundled onnxruntime-node 1.30 loads, measured with ort-support.test.ts (which fails when
 * the bundled runtime changes): ai.onnx opsets 7..26 and IR versions up to 13. Below opset 7 onnxruntime
 * only warns and many kernels are missing, so the platform refuses those models up front.
 */
export const ORT_SUPPORT = {
  minOpset: 7,
  maxOpset: 26,
  maxIrVersion: 13,
  /** Operator domains with kernels in the CPU build; other domains need custom-op libraries. */
  domains: ["", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.microsoft.nchwc", "com.ms.internal.nhwc"],
} as const;
