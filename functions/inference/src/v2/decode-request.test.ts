import { describe, expect, it } from "vitest";
import { decodeInferRequest } from "./decode-request.js";
import { encodeInferResponse } from "./encode-response.js";
import type { ModelSignature } from "./signature.js";
import { V2Error } from "./v2-error.js";

const sig = (datatype: ModelSignature["inputs"][number]["datatype"], shape = [-1, 2]): ModelSignature => ({
  inputs: [{ name: "x", datatype, shape }],
  outputs: [{ name: "y", datatype, shape }],
});

function json(body: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(body));
}

function expectV2(fn: () => unknown, status: number, message: RegExp) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(V2Error);
    expect((err as V2Error).status).toBe(status);
    expect((err as V2Error).message).toMatch(message);
    return;
  }
  throw new Error("expected a V2Error");
}

describe("decodeInferRequest", () => {
  it.each([
    ["FP32", [1.5, -2], Float32Array, [1.5, -2]],
    ["FP64", [1.5, -2], Float64Array, [1.5, -2]],
    ["INT32", [7, -8], Int32Array, [7, -8]],
    ["INT16", [7, -8], Int16Array, [7, -8]],
    ["INT8", [127, -128], Int8Array, [127, -128]],
    ["UINT8", [0, 255], Uint8Array, [0, 255]],
    ["UINT16", [0, 65535], Uint16Array, [0, 65535]],
    ["INT64", [9007199254740991, -3], BigInt64Array, [9007199254740991n, -3n]],
    ["BOOL", [true, false], Uint8Array, [1, 0]],
  ] as const)("decodes JSON %s data into the matching typed array", (datatype, data, ctor, expected) => {
    const r = decodeInferRequest(
      json({ inputs: [{ name: "x", shape: [1, 2], datatype, data }] }),
      undefined,
      sig(datatype),
    );
    expect(r.inputs[0]!.data).toBeInstanceOf(ctor);
    expect(Array.from(r.inputs[0]!.data as ArrayLike<number | bigint>)).toEqual(expected);
  });

  it("decodes FP16 from JSON numbers and encodes it back", () => {
    const r = decodeInferRequest(
      json({ inputs: [{ name: "x", shape: [1, 2], datatype: "FP16", data: [0.5, -2] }] }),
      undefined,
      sig("FP16"),
    );
    expect(Array.from(r.inputs[0]!.data as Uint16Array)).toEqual([0x3800, 0xc000]);
    const out = encodeInferResponse([{ ...r.inputs[0]!, name: "y" }], {
      modelName: "m",
      modelVersion: "1",
      outputs: [],
      binaryByDefault: false,
    });
    expect(JSON.parse(out.body as string).outputs[0].data).toEqual([0.5, -2]);
  });

  it("accepts nested data and flattens it row-major", () => {
    const r = decodeInferRequest(
      json({
        inputs: [
          {
            name: "x",
            shape: [2, 2],
            datatype: "FP32",
            data: [
              [1, 2],
              [3, 4],
            ],
          },
        ],
      }),
      undefined,
      sig("FP32"),
    );
    expect(Array.from(r.inputs[0]!.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it("reads binary inputs after the JSON header (binary tensor data extension)", () => {
    const header = json({
      inputs: [{ name: "x", shape: [2, 2], datatype: "INT32", parameters: { binary_data_size: 16 } }],
      outputs: [{ name: "y", parameters: { binary_data: true } }],
    });
    const body = new Uint8Array(header.byteLength + 16);
    body.set(header);
    body.set(new Uint8Array(Int32Array.from([1, 2, 3, 4]).buffer), header.byteLength);
    const r = decodeInferRequest(body, String(header.byteLength), sig("INT32"));
    expect(Array.from(r.inputs[0]!.data as Int32Array)).toEqual([1, 2, 3, 4]);
    expect(r.outputs).toEqual([{ name: "y", binary: true }]);
  });

  it("encodes binary outputs after a JSON header whose length it reports", () => {
    const out = encodeInferResponse(
      [{ name: "y", datatype: "FP32", shape: [1, 2], data: Float32Array.from([1, 2]) }],
      {
        modelName: "m",
        modelVersion: "1",
        outputs: [],
        binaryByDefault: true,
      },
    );
    const n = Number(out.headers["inference-header-content-length"]);
    const body = out.body as Uint8Array;
    const head = JSON.parse(new TextDecoder().decode(body.subarray(0, n)));
    expect(head.outputs[0]).toEqual({
      name: "y",
      datatype: "FP32",
      shape: [1, 2],
      parameters: { binary_data_size: 8 },
    });
    expect(Array.from(new Float32Array(body.slice(n).buffer))).toEqual([1, 2]);
  });

  it("rejects what does not match the signature with v2 400s", () => {
    const s = sig("FP32");
    expectV2(
      () =>
        decodeInferRequest(
          json({ inputs: [{ name: "z", shape: [1, 2], datatype: "FP32", data: [1, 2] }] }),
          undefined,
          s,
        ),
      400,
      /unexpected input "z"/,
    );
    expectV2(
      () =>
        decodeInferRequest(
          json({ inputs: [{ name: "x", shape: [1, 2], datatype: "INT32", data: [1, 2] }] }),
          undefined,
          s,
        ),
      400,
      /datatype INT32, expected FP32/,
    );
    expectV2(
      () =>
        decodeInferRequest(
          json({ inputs: [{ name: "x", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }] }),
          undefined,
          s,
        ),
      400,
      /shape \[1,3\]/,
    );
    expectV2(
      () =>
        decodeInferRequest(
          json({ inputs: [{ name: "x", shape: [1, 2], datatype: "FP32", data: [1] }] }),
          undefined,
          s,
        ),
      400,
      /1 elements, but shape/,
    );
    expectV2(
      () =>
        decodeInferRequest(
          json({ inputs: [{ name: "x", shape: [1, 2], datatype: "FP32", data: [1, "a"] }] }),
          undefined,
          s,
        ),
      400,
      /not a valid FP32/,
    );
    expectV2(() => decodeInferRequest(json({ inputs: [] }), undefined, s), 400, /inputs must not be empty/);
    expectV2(
      () => decodeInferRequest(new TextEncoder().encode("{nope"), undefined, s),
      400,
      /not valid JSON/,
    );
    expectV2(
      () =>
        decodeInferRequest(
          json({
            inputs: [{ name: "x", shape: [1, 2], datatype: "FP32", data: [1, 2] }],
            outputs: [{ name: "q" }],
          }),
          undefined,
          s,
        ),
      400,
      /unknown output "q"/,
    );
    expectV2(
      () =>
        decodeInferRequest(
          json({
            inputs: [{ name: "x", shape: [1, 2], datatype: "FP32", parameters: { binary_data_size: 4 } }],
          }),
          "0",
          s,
        ),
      400,
      /./,
    );
    expectV2(
      () =>
        decodeInferRequest(
          json({ inputs: [{ name: "x", shape: [1, 2], datatype: "INT8", data: [1, 300] }] }),
          undefined,
          sig("INT8"),
        ),
      400,
      /not a valid INT8/,
    );
  });

  it("reports missing inputs", () => {
    const two: ModelSignature = {
      inputs: [
        { name: "a", datatype: "FP32", shape: [-1, 1] },
        { name: "b", datatype: "FP32", shape: [-1, 1] },
      ],
      outputs: [],
    };
    expectV2(
      () =>
        decodeInferRequest(
          json({ inputs: [{ name: "a", shape: [1, 1], datatype: "FP32", data: [1] }] }),
          undefined,
          two,
        ),
      400,
      /missing input\(s\): b/,
    );
  });
});
