import type { OrtTypeName } from "../tensor.js";

/** Messages between the session pool (event loop) and a session worker. Types only: no runtime code. */

export interface WireTensor {
  name: string;
  type: OrtTypeName;
  dims: number[];
  buffer: ArrayBufferLike;
  byteOffset: number;
  /** Element count. */
  length: number;
}

export interface ValueInfo {
  name: string;
  /** ORT tensor type, or "" for non-tensor values. */
  type: string;
  /** Numbers for fixed axes, -1 for symbolic or unknown ones; [] when the rank is unknown. */
  shape: number[];
}

export interface InitMessage {
  kind: "init";
  modelPath: string;
  /** In order of preference; "cpu" is always tried last. */
  providers: string[];
  intraOpNumThreads: number;
  interOpNumThreads: number;
}

export interface RunMessage {
  kind: "run";
  id: number;
  feeds: WireTensor[];
  /** Output names to fetch; all when empty. */
  outputs: string[];
}

export type ToWorker = InitMessage | RunMessage | { kind: "close" };

export interface ReadyMessage {
  kind: "ready";
  provider: string;
  /** Why earlier providers were skipped, e.g. the CUDA provider library is missing. */
  fallbacks: { provider: string; reason: string }[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  createMs: number;
}

export interface ResultMessage {
  kind: "result";
  id: number;
  outputs: WireTensor[];
  computeMs: number;
}

export type FromWorker =
  | ReadyMessage
  | ResultMessage
  | { kind: "init-error"; message: string }
  | { kind: "run-error"; id: number; message: string };
