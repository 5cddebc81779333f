import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { buildModel, ElemType, encodeModel, node, tensorInfo } from "./builder.js";
import { ORT_SUPPORT } from "./ort-support.js";

async function loads(opset: number, irVersion = 8): Promise<boolean> {
  const model = buildModel({
    name: "relu",
    opset,
    nodes: [node("Relu", ["x"], ["y"])],
    inputs: [tensorInfo("x", ElemType.FLOAT, ["n", 4])],
    outputs: [tensorInfo("y", ElemType.FLOAT, ["n", 4])],
  });
  model.irVersion = irVersion;
  try {
    const s = await ort.InferenceSession.create(encodeModel(model), { logSeverityLevel: 4 });
    await s.release();
    return true;
  } catch {
    return false;
  }
}

// If these fail, the bundled onnxruntime changed: update ORT_SUPPORT to what it now loads.
describe("ORT_SUPPORT matches the bundled onnxruntime-node", () => {
  it("loads the newest supported opset and refuses the next", async () => {
    expect(await loads(ORT_SUPPORT.maxOpset)).toBe(true);
    expect(await loads(ORT_SUPPORT.maxOpset + 1)).toBe(false);
  });

  it("loads the newest supported IR version and refuses the next", async () => {
    expect(await loads(17, ORT_SUPPORT.maxIrVersion)).toBe(true);
    expect(await loads(17, ORT_SUPPORT.maxIrVersion + 1)).toBe(false);
  });
});
