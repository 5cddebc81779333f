import { z } from "zod";
import {
  DATATYPES,
  elementCount,
  type HostTensor,
  isServedDatatype,
  type ServedDatatype,
  viewBytes,
} from "../tensor.js";
import type { ModelSignature } from "./signature.js";
import { V2Error } from "./v2-error.js";

export const INFERENCE_HEADER = "inference-header-content-length";

const parametersSchema = z.record(z.string(), z.unknown());

/** The v2 inference request JSON object (REST spec "Inference Request JSON Object"). */
const requestSchema = z.object({
  id: z.string().optional(),
  parameters: parametersSchema.optional(),
  inputs: z
    .array(
      z.object({
        name: z.string(),
        shape: z.array(z.number().int().nonnegative()),
        datatype: z.string(),
        parameters: parametersSchema.optional(),
        data: z.unknown().optional(),
      }),
    )
    .min(1, "inputs must not be empty"),
  outputs: z.array(z.object({ name: z.string(), parameters: parametersSchema.optional() })).optional(),
});

export interface RequestedOutput {
  name: string;
  binary: boolean;
}

export interface DecodedRequest {
  id?: string;
  inputs: HostTensor[];
  /** Empty: every output, each binary iff `binaryByDefault`. */
  outputs: RequestedOutput[];
  binaryByDefault: boolean;
  /** The request's `priority` parameter (Triton's extension), if any. */
  priority?: number;
}

/** Flattens nested JSON arrays (v2 allows either form) without recursion limits. */
function flatten(data: unknown): unknown[] {
  if (!Array.isArray(data)) return [data];
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const stack: unknown[] = [data];
  // Depth-first, left to right: push children in reverse.
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    else out.push(v);
  }
  return out;
}

const INT_RANGES: Partial<Record<ServedDatatype, [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647],
  UINT32: [0, 4294967295],
};

function fromJson(name: string, datatype: ServedDatatype, values: unknown[]): HostTensor["data"] {
  const bad = (i: number) =>
    new V2Error(
      400,
      `input "${name}": element ${i} (${JSON.stringify(values[i])}) is not a valid ${datatype}`,
    );
  const info = DATATYPES[datatype];
  const out = info.alloc(values.length);
  if (datatype === "BOOL") {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v === "boolean") out[i] = v ? 1 : 0;
      else if (v === 0 || v === 1) out[i] = v;
      else throw bad(i);
    }
    return out;
  }
  if (datatype === "INT64" || datatype === "UINT64") {
    const arr = out as BigInt64Array | BigUint64Array;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "number" || !Number.isInteger(v) || (datatype === "UINT64" && v < 0)) throw bad(i);
      arr[i] = BigInt(v);
    }
    return out;
  }
  if (datatype === "FP16") {
    const F16 = (
      globalThis as unknown as {
        Float16Array: new (n: number) => ArrayLike<number> & { buffer: ArrayBuffer; [i: number]: number };
      }
    ).Float16Array;
    const half = new F16(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "number") throw bad(i);
      half[i] = v;
    }
    return new Uint16Array(half.buffer);
  }
  const range = INT_RANGES[datatype];
  const arr = out as Float32Array;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number") throw bad(i);
    if (range && (!Number.isInteger(v) || v < range[0] || v > range[1])) throw bad(i);
    arr[i] = v;
  }
  return out;
}

/**
 * Decodes a v2 infer request — JSON, or the binary tensor data extension (JSON header of
 * `Inference-Header-Content-Length` bytes followed by each binary input's raw little-endian bytes in
 * input order) — and validates it against the model's signature: every input present once, known
 * names, matching datatype, rank and fixed dims, and data size equal to the shape's element count.
 *
 * @example
 * const req = decodeInferRequest(new Uint8Array(await c.req.arrayBuffer()), c.req.header(INFERENCE_HEADER), signature);
 */
export function decodeInferRequest(
  body: Uint8Array,
  headerLength: string | undefined,
  signature: ModelSignature,
): DecodedRequest {
  let jsonBytes = body;
  let binary: Uint8Array | undefined;
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!Number.isInteger(n) || n < 0 || n > body.byteLength) {
      throw new V2Error(
        400,
        `Inference-Header-Content-Length ${headerLength} is not within the body's ${body.byteLength} bytes`,
      );
    }
    jsonBytes = body.subarray(0, n);
    binary = body.subarray(n);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch {
    throw new V2Error(400, "request body is not valid JSON");
  }
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new V2Error(400, `invalid inference request: ${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  const req = parsed.data;
  const specs = new Map(signature.inputs.map((s) => [s.name, s]));
  const seen = new Set<string>();
  let offset = 0;
  const inputs: HostTensor[] = [];
  for (const input of req.inputs) {
    const spec = specs.get(input.name);
    if (!spec)
      throw new V2Error(
        400,
        `unexpected input "${input.name}"; the model takes ${[...specs.keys()].join(", ")}`,
      );
    if (seen.has(input.name)) throw new V2Error(400, `input "${input.name}" given more than once`);
    seen.add(input.name);
    if (!isServedDatatype(input.datatype) || input.datatype !== spec.datatype) {
      throw new V2Error(400, `input "${input.name}": datatype ${input.datatype}, expected ${spec.datatype}`);
    }
    const datatype = spec.datatype;
    if (
      input.shape.length !== spec.shape.length ||
      spec.shape.some((d, i) => d !== -1 && d !== input.shape[i])
    ) {
      throw new V2Error(
        400,
        `input "${input.name}": shape [${input.shape.join(",")}] does not match the model's [${spec.shape.join(",")}] (-1 = any)`,
      );
    }
    const count = elementCount(input.shape);
    const size = input.parameters?.binary_data_size;
    let data: HostTensor["data"];
    if (size !== undefined) {
      if (!binary)
        throw new V2Error(
          400,
          `input "${input.name}" has binary_data_size but the request has no Inference-Header-Content-Length`,
        );
      if (typeof size !== "number" || !Number.isInteger(size) || size < 0) {
        throw new V2Error(400, `input "${input.name}": binary_data_size must be a non-negative integer`);
      }
      const expected = count * DATATYPES[datatype].bytes;
      if (size !== expected) {
        throw new V2Error(
          400,
          `input "${input.name}": binary_data_size ${size}, expected ${expected} for shape [${input.shape.join(",")}] ${datatype}`,
        );
      }
      if (offset + size > binary.byteLength) {
        throw new V2Error(
          400,
          `input "${input.name}": binary data ends past the body (${binary.byteLength} bytes after the header)`,
        );
      }
      data = viewBytes(datatype, binary.subarray(offset, offset + size));
      offset += size;
    } else {
      if (input.data === undefined)
        throw new V2Error(400, `input "${input.name}" has neither data nor binary_data_size`);
      const flat = flatten(input.data);
      if (flat.length !== count) {
        throw new V2Error(
          400,
          `input "${input.name}": ${flat.length} elements, but shape [${input.shape.join(",")}] needs ${count}`,
        );
      }
      data = fromJson(input.name, datatype, flat);
    }
    inputs.push({ name: input.name, datatype, shape: input.shape, data });
  }
  if (binary && offset !== binary.byteLength) {
    throw new V2Error(400, `${binary.byteLength - offset} bytes of binary data after the last binary input`);
  }
  const missing = signature.inputs.filter((s) => !seen.has(s.name)).map((s) => s.name);
  if (missing.length > 0) throw new V2Error(400, `missing input(s): ${missing.join(", ")}`);

  const known = new Set(signature.outputs.map((o) => o.name));
  const binaryByDefault = req.parameters?.binary_data_output === true;
  const outputs = (req.outputs ?? []).map((o) => {
    if (!known.has(o.name))
      throw new V2Error(400, `unknown output "${o.name}"; the model has ${[...known].join(", ")}`);
    const flag = o.parameters?.binary_data;
    return { name: o.name, binary: typeof flag === "boolean" ? flag : binaryByDefault };
  });
  const priority = req.parameters?.priority;
  return {
    ...(req.id !== undefined ? { id: req.id } : {}),
    inputs,
    outputs,
    binaryByDefault,
    ...(typeof priority === "number" ? { priority } : {}),
  };
}
