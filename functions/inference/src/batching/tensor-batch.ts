import { DATATYPES, elementCount, type HostTensor } from "../tensor.js";

/** Rows a request contributes to a batch: axis 0 of its first input (1 for a scalar input). */
export function rowsOf(inputs: readonly HostTensor[]): number {
  return inputs[0]?.shape[0] ?? 1;
}

/**
 * Requests share a batch only when every input has the same name, datatype and non-batch shape, all
 * inputs agree on axis 0, and the same outputs are requested (so the split is well defined).
 */
export function batchKey(inputs: readonly HostTensor[], outputs: readonly string[]): string {
  const rows = rowsOf(inputs);
  const parts = inputs.map((t) => {
    // An input whose axis 0 disagrees with the first cannot be stacked: make its key unique.
    if (t.shape.length === 0 || t.shape[0] !== rows)
      return `${t.name}:${t.datatype}:unstackable:${Math.random()}`;
    return `${t.name}:${t.datatype}:${t.shape.slice(1).join("x")}`;
  });
  return `${parts.join("|")}→${[...outputs].sort().join(",")}`;
}

/** Stacks the requests' inputs along axis 0, one new buffer per input (the only copy batching adds). */
export function concatInputs(requests: readonly (readonly HostTensor[])[]): HostTensor[] {
  const first = requests[0];
  if (!first) return [];
  if (requests.length === 1) return [...first];
  return first.map((proto, i) => {
    const parts = requests.map((r) => r[i]!);
    const total = parts.reduce((n, t) => n + t.data.length, 0);
    const data = DATATYPES[proto.datatype].alloc(total);
    let offset = 0;
    for (const t of parts) {
      // Same datatype by batchKey, so the typed arrays match; `set` copies element-wise.
      (data as unknown as { set(a: ArrayLike<number | bigint>, o: number): void }).set(t.data, offset);
      offset += t.data.length;
    }
    const rows = parts.reduce((n, t) => n + (t.shape[0] ?? 1), 0);
    return { name: proto.name, datatype: proto.datatype, shape: [rows, ...proto.shape.slice(1)], data };
  });
}

/**
 * Splits a batch's outputs back per request, in order, as views (no copy). Every output must have
 * axis 0 equal to the batch's rows, else the model does not batch along axis 0 and this throws.
 */
export function splitOutputs(
  outputs: readonly HostTensor[],
  rowsPerRequest: readonly number[],
): HostTensor[][] {
  if (rowsPerRequest.length === 1) return [[...outputs]];
  const total = rowsPerRequest.reduce((a, b) => a + b, 0);
  const perRequest: HostTensor[][] = rowsPerRequest.map(() => []);
  for (const out of outputs) {
    if (out.shape[0] !== total) {
      throw new Error(`output "${out.name}" has axis 0 = ${out.shape[0]}, not the batch's ${total} rows`);
    }
    const rowElems = elementCount(out.shape.slice(1));
    let row = 0;
    for (const [k, rows] of rowsPerRequest.entries()) {
      const data = out.data.subarray(row * rowElems, (row + rows) * rowElems) as HostTensor["data"];
      perRequest[k]!.push({
        name: out.name,
        datatype: out.datatype,
        shape: [rows, ...out.shape.slice(1)],
        data,
      });
      row += rows;
    }
  }
  return perRequest;
}
