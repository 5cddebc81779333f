import type { ServedDatatype } from "../tensor.js";

export interface TensorSignature {
  name: string;
  datatype: ServedDatatype;
  /** -1 for a dynamic axis. */
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}
