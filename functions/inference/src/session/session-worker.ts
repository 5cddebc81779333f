// Session worker entry. It runs under Node's built-in type stripping (no tsx inside workers, and
// vitest does not register a loader for them), so it imports only Node and onnxruntime-node at run
// time; relative imports are type-only.
import { parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import type { FromWorker, InitMessage, ToWorker, ValueInfo, WireTensor } from "./protocol.js";

export interface ProviderAttempt {
  provider: string;
  reason: string;
}

/**
 * Tries each execution provider in order, then CPU. onnxruntime-node rejects `create` outright when
 * a provider's shared library is missing (e.g. CUDA on a CPU node), so falling back is ours to do.
 *
 * @example
 * const { session, provider, fallbacks } = await createWithFallback(ort.InferenceSession.create, "m.onnx", ["cuda"], {});
 */
export async function createWithFallback<S>(
  create: (path: string, options: ort.InferenceSession.SessionOptions) => Promise<S>,
  modelPath: string,
  providers: readonly string[],
  options: ort.InferenceSession.SessionOptions,
): Promise<{ session: S; provider: string; fallbacks: ProviderAttempt[] }> {
  const order = [...providers.filter((p) => p !== "cpu"), "cpu"];
  const fallbacks: ProviderAttempt[] = [];
  for (const [i, provider] of order.entries()) {
    try {
      const session = await create(modelPath, { ...options, executionProviders: [provider] });
      return { session, provider, fallbacks };
    } catch (err) {
      if (i === order.length - 1) throw err;
      fallbacks.push({ provider, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  throw new Error("unreachable: cpu is always tried");
}

function valueInfo(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, type: m.type, shape: m.shape.map((d) => (typeof d === "number" && d > 0 ? d : -1)) }
      : { name: m.name, type: "", shape: [] },
  );
}

function toOrt(t: WireTensor): ort.Tensor {
  const data = typedView(t);
  return new ort.Tensor(t.type, data as ort.Tensor.DataType, t.dims);
}

function typedView(t: WireTensor) {
  const b = t.buffer;
  switch (t.type) {
    case "float32":
      return new Float32Array(b, t.byteOffset, t.length);
    case "float64":
      return new Float64Array(b, t.byteOffset, t.length);
    case "int8":
      return new Int8Array(b, t.byteOffset, t.length);
    case "int16":
      return new Int16Array(b, t.byteOffset, t.length);
    case "int32":
      return new Int32Array(b, t.byteOffset, t.length);
    case "int64":
      return new BigInt64Array(b, t.byteOffset, t.length);
    case "uint16":
    case "float16":
      return new Uint16Array(b, t.byteOffset, t.length);
    case "uint32":
      return new Uint32Array(b, t.byteOffset, t.length);
    case "uint64":
      return new BigUint64Array(b, t.byteOffset, t.length);
    default:
      return new Uint8Array(b, t.byteOffset, t.length);
  }
}

function toWire(name: string, value: ort.OnnxValue): WireTensor {
  const tensor = value as ort.Tensor;
  const data = tensor.data as ArrayBufferView & { length: number };
  if (typeof (data as unknown) === "undefined" || !ArrayBuffer.isView(data)) {
    throw new Error(`output "${name}" is not a numeric tensor (type ${tensor.type})`);
  }
  return {
    name,
    type: tensor.type as WireTensor["type"],
    dims: [...tensor.dims],
    buffer: data.buffer,
    byteOffset: data.byteOffset,
    length: data.length,
  };
}

/** Buffers to move rather than copy: each once, and only whole ArrayBuffers (not shared memory). */
function transferList(tensors: readonly WireTensor[]): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of tensors) if (t.buffer instanceof ArrayBuffer) seen.add(t.buffer);
  return [...seen];
}

async function serve(port: NonNullable<typeof parentPort>, init: InitMessage): Promise<void> {
  const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => {
    try {
      port.postMessage(msg, transfer);
    } catch {
      // A buffer ORT still owns cannot be detached: copy instead.
      port.postMessage(msg);
    }
  };
  let session: ort.InferenceSession;
  try {
    const t0 = performance.now();
    const created = await createWithFallback(
      (path, options) => ort.InferenceSession.create(path, options),
      init.modelPath,
      init.providers,
      {
        intraOpNumThreads: init.intraOpNumThreads,
        interOpNumThreads: init.interOpNumThreads,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
      },
    );
    session = created.session;
    send({
      kind: "ready",
      provider: created.provider,
      fallbacks: created.fallbacks,
      inputs: valueInfo(session.inputMetadata),
      outputs: valueInfo(session.outputMetadata),
      createMs: performance.now() - t0,
    });
  } catch (err) {
    send({ kind: "init-error", message: err instanceof Error ? err.message : String(err) });
    return;
  }
  port.on("message", async (msg: ToWorker) => {
    if (msg.kind === "close") {
      await session.release().catch(() => undefined);
      port.close();
      return;
    }
    if (msg.kind !== "run") return;
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of msg.feeds) feeds[t.name] = toOrt(t);
      const t0 = performance.now();
      const result =
        msg.outputs.length > 0 ? await session.run(feeds, msg.outputs) : await session.run(feeds);
      const computeMs = performance.now() - t0;
      const outputs = Object.entries(result).map(([name, value]) => toWire(name, value));
      send({ kind: "result", id: msg.id, outputs, computeMs }, transferList(outputs));
    } catch (err) {
      send({ kind: "run-error", id: msg.id, message: err instanceof Error ? err.message : String(err) });
    }
  });
}

const data = workerData as { maasSessionWorker?: InitMessage } | null;
if (parentPort && data?.maasSessionWorker) await serve(parentPort, data.maasSessionWorker);
