import { onnxTypeName, v2Datatype } from "./dtypes.js";
import { allGraphs, allTensors } from "./graph-walk.js";
import { ORT_SUPPORT } from "./ort-support.js";
import type { ModelProto, ValueInfoProto } from "./proto.js";
import { int64, onnx } from "./proto.js";
import type { ModelSignature } from "./signature.js";
import { aiOnnxOpset, extractSignature, hasDynamicBatch, realInputs, shapeOf } from "./signature.js";

export type ValidationCode =
  | "NO_GRAPH"
  | "NO_INPUTS"
  | "NO_OUTPUTS"
  | "OPSET_MISSING"
  | "OPSET_TOO_OLD"
  | "OPSET_TOO_NEW"
  | "IR_VERSION_TOO_NEW"
  | "UNSUPPORTED_DOMAIN"
  | "UNSUPPORTED_DTYPE"
  | "EXTERNAL_DATA";

export interface ValidationProblem {
  code: ValidationCode;
  /** What is wrong and what to do about it, for the person who uploaded the model. */
  message: string;
}

export interface ValidationResult {
  ok: boolean;
  problems: ValidationProblem[];
  /** Facts worth showing that are not problems (dynamic axes, batch handling). */
  notes: string[];
  dynamicBatch: boolean;
  /** Present when ok. */
  signature?: ModelSignature;
}

const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;

function checkBoundary(kind: "input" | "output", info: ValueInfoProto, problems: ValidationProblem[]): void {
  const name = info.name ?? "";
  const tensorType = info.type?.tensorType;
  if (!tensorType) {
    problems.push({
      code: "UNSUPPORTED_DTYPE",
      message: `${kind} "${name}" is not a tensor (sequence, map or untyped); only tensor inputs and outputs can be served`,
    });
    return;
  }
  const elem = tensorType.elemType ?? 0;
  if (!v2Datatype(elem)) {
    problems.push({
      code: "UNSUPPORTED_DTYPE",
      message: `${kind} "${name}" has element type ${onnxTypeName(elem)}, which the inference protocol cannot carry; use FP32, FP16, INT64, INT32, INT8, UINT8 or BOOL`,
    });
  }
}

/**
 * Checks that the bundled onnxruntime can load and serve the model, collecting every problem rather
 * than stopping at the first, so one upload tells the user everything to fix.
 *
 * @example
 * const result = validateModel(parseModel(bytes));
 * if (!result.ok) reject(result.problems.map((p) => p.message).join("; "));
 */
export function validateModel(model: ModelProto): ValidationResult {
  const problems: ValidationProblem[] = [];
  const notes: string[] = [];
  const graph = model.graph;
  if (!graph) {
    return {
      ok: false,
      problems: [{ code: "NO_GRAPH", message: "the model has no graph" }],
      notes,
      dynamicBatch: false,
    };
  }

  const irVersion = int64(model.irVersion);
  if (irVersion > ORT_SUPPORT.maxIrVersion) {
    problems.push({
      code: "IR_VERSION_TOO_NEW",
      message: `IR version ${irVersion} is newer than the runtime supports (≤ ${ORT_SUPPORT.maxIrVersion}); re-export with an older ONNX version`,
    });
  }

  const opset = aiOnnxOpset(model);
  if (opset === 0) {
    problems.push({ code: "OPSET_MISSING", message: "the model declares no ai.onnx opset in opset_import" });
  } else if (opset < ORT_SUPPORT.minOpset) {
    problems.push({
      code: "OPSET_TOO_OLD",
      message: `ai.onnx opset ${opset} is older than the supported range ${ORT_SUPPORT.minOpset}–${ORT_SUPPORT.maxOpset}; convert the model with onnx.version_converter or re-export it`,
    });
  } else if (opset > ORT_SUPPORT.maxOpset) {
    problems.push({
      code: "OPSET_TOO_NEW",
      message: `ai.onnx opset ${opset} is newer than the supported range ${ORT_SUPPORT.minOpset}–${ORT_SUPPORT.maxOpset}; export with opset ≤ ${ORT_SUPPORT.maxOpset}`,
    });
  }

  const known = new Set<string>(ORT_SUPPORT.domains);
  const unknownDomains = new Set<string>();
  for (const g of allGraphs(graph)) {
    for (const n of g.node ?? []) {
      if (!known.has(n.domain ?? "")) unknownDomains.add(n.domain ?? "");
    }
  }
  for (const d of unknownDomains) {
    problems.push({
      code: "UNSUPPORTED_DOMAIN",
      message: `operators of domain "${d}" need a custom-op library the platform does not load; export with standard ONNX operators`,
    });
  }

  const inputs = realInputs(model);
  if (inputs.length === 0) problems.push({ code: "NO_INPUTS", message: "the graph has no inputs" });
  if ((graph.output ?? []).length === 0)
    problems.push({ code: "NO_OUTPUTS", message: "the graph has no outputs" });
  for (const i of inputs) checkBoundary("input", i, problems);
  for (const o of graph.output ?? []) checkBoundary("output", o, problems);

  const external: string[] = [];
  for (const { tensor, where } of allTensors(graph)) {
    if (tensor.dataLocation === EXTERNAL) external.push(where);
  }
  if (external.length > 0) {
    const shown = external.slice(0, 5).join(", ");
    const more = external.length > 5 ? ` and ${external.length - 5} more` : "";
    problems.push({
      code: "EXTERNAL_DATA",
      message: `${external.length} tensor(s) keep their data in external files (${shown}${more}), which are not uploaded with the model; save the model with all tensors inside one .onnx file (onnx.save_model(model, path, save_as_external_data=False)) — a single file up to 2 GB`,
    });
  }

  const dynamicBatch = inputs.some(hasDynamicBatch);
  for (const i of inputs) {
    const shape = shapeOf(i);
    if (!shape) continue;
    if (shape.length > 0 && shape[0] === -1) {
      notes.push(`input "${i.name ?? ""}" has a dynamic batch dimension (axis 0): requests can be batched`);
    } else if (shape.length > 0) {
      notes.push(
        `input "${i.name ?? ""}" has a fixed batch of ${shape[0]}: requests cannot be batched together`,
      );
    }
    const otherDynamic = shape.slice(1).flatMap((d, k) => (d === -1 ? [k + 1] : []));
    if (otherDynamic.length > 0) {
      notes.push(`input "${i.name ?? ""}" has dynamic axes ${otherDynamic.join(", ")} besides the batch`);
    }
  }

  const ok = problems.length === 0;
  return ok
    ? { ok, problems, notes, dynamicBatch, signature: extractSignature(model) }
    : { ok, problems, notes, dynamicBatch };
}
