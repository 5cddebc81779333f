import * as ort from "onnxruntime-node";
import type { ModelProto } from "./proto.js";
import { onnx } from "./proto.js";

/**
 * Element types of every tensor in the main graph, as onnxruntime infers them. There is no ONNX shape
 * inference in JavaScript, so the model is loaded once with every node output promoted to a graph
 * output (untyped; onnxruntime fills the type in) and the session's output metadata is read back.
 * Values are onnxruntime type names ("float32", "int64", …).
 */
export async function inferElementTypes(model: ModelProto): Promise<Map<string, string>> {
  const graph = model.graph ?? {};
  const declared = new Set((graph.output ?? []).map((o) => o.name ?? ""));
  const extra = (graph.node ?? [])
    .flatMap((n) => n.output ?? [])
    .filter((name) => name && !declared.has(name))
    .map((name) => ({ name }));
  const probe = onnx.ModelProto.create({
    ...model,
    graph: { ...graph, output: [...(graph.output ?? []), ...extra] },
  });
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), {
    graphOptimizationLevel: "disabled",
    logSeverityLevel: 3,
    intraOpNumThreads: 1,
  });
  try {
    const types = new Map<string, string>();
    for (const meta of [...session.inputMetadata, ...session.outputMetadata]) {
      if (meta.isTensor) types.set(meta.name, meta.type);
    }
    return types;
  } finally {
    await session.release();
  }
}
