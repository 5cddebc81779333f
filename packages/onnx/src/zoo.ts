import { attr, buildModel, ElemType, floatTensor, int64Tensor, node, tensorInfo } from "./builder.js";
import type { ModelProto } from "./proto.js";
import { fillNormal, seededRandom } from "./random.js";
import { writeStreamedModel } from "./streaming-writer.js";

/** He-initialised weights so activations neither vanish nor explode through the Relu layers. */
function weights(rand: () => number, count: number, fanIn: number): Float32Array {
  return fillNormal(new Float32Array(count), rand, Math.sqrt(2 / fanIn));
}

function bias(rand: () => number, count: number): Float32Array {
  return fillNormal(new Float32Array(count), rand, 0.1);
}

/**
 * A dense layer as PyTorch exports it: Gemm with the weight stored [out, in] and transB = 1.
 * `useMatMul` instead emits MatMul (weight [in, out]) + Add, the other common exporter form.
 */
function dense(
  rand: () => number,
  prefix: string,
  input: string,
  output: string,
  inSize: number,
  outSize: number,
  useMatMul = false,
) {
  const w = weights(rand, inSize * outSize, inSize);
  const b = bias(rand, outSize);
  if (useMatMul) {
    return {
      nodes: [
        node("MatMul", [input, `${prefix}.weight`], [`${prefix}.mm`], [], { name: `${prefix}/MatMul` }),
        node("Add", [`${prefix}.mm`, `${prefix}.bias`], [output], [], { name: `${prefix}/Add` }),
      ],
      initializers: [
        floatTensor(`${prefix}.weight`, [inSize, outSize], w),
        floatTensor(`${prefix}.bias`, [outSize], b),
      ],
    };
  }
  return {
    nodes: [
      node("Gemm", [input, `${prefix}.weight`, `${prefix}.bias`], [output], [attr.int("transB", 1)], {
        name: `${prefix}/Gemm`,
      }),
    ],
    initializers: [
      floatTensor(`${prefix}.weight`, [outSize, inSize], w),
      floatTensor(`${prefix}.bias`, [outSize], b),
    ],
  };
}

/** An MLP with Relu between layers and Softmax at the end; layer sizes from input to classes. */
function mlp(name: string, sizes: number[], seed: number, docString: string): ModelProto {
  const rand = seededRandom(seed);
  const nodes = [];
  const initializers = [];
  let current = "input";
  for (let i = 0; i + 1 < sizes.length; i++) {
    const last = i + 2 === sizes.length;
    const out = last ? "logits" : `fc${i}.out`;
    // Alternate the two exporter forms so both rewrite paths are always exercised.
    const layer = dense(rand, `fc${i}`, current, out, sizes[i]!, sizes[i + 1]!, i % 2 === 1);
    nodes.push(...layer.nodes);
    initializers.push(...layer.initializers);
    if (!last) {
      nodes.push(node("Relu", [out], [`fc${i}.relu`], [], { name: `fc${i}/Relu` }));
      current = `fc${i}.relu`;
    }
  }
  nodes.push(node("Softmax", ["logits"], ["probabilities"], [attr.int("axis", -1)], { name: "Softmax" }));
  return buildModel({
    name,
    docString,
    nodes,
    initializers,
    inputs: [tensorInfo("input", ElemType.FLOAT, ["batch", sizes[0]!])],
    outputs: [tensorInfo("probabilities", ElemType.FLOAT, ["batch", sizes.at(-1)!])],
  });
}

const CLASSIFIER = { features: 64, hidden: 256, classes: 10, noise: 1.0 } as const;

function classCenters(seed: number): Float32Array[] {
  const rand = seededRandom(seed * 7919 + 1);
  return Array.from({ length: CLASSIFIER.classes }, () =>
    fillNormal(new Float32Array(CLASSIFIER.features), rand),
  );
}

/**
 * In-distribution inputs for mlpClassifier: each row is a class centre plus noise, rows cycling over
 * the classes. Returns the rows [count, 64] and the class each was drawn from.
 *
 * @example
 * const { data, labels } = classifierSamples(1, 500);
 */
export function classifierSamples(
  seed: number,
  count: number,
  sampleSeed = 99,
): { data: Float32Array; labels: number[] } {
  const centers = classCenters(seed);
  const rand = seededRandom(sampleSeed);
  const { features, classes, noise } = CLASSIFIER;
  const data = fillNormal(new Float32Array(count * features), rand, noise);
  const labels: number[] = [];
  for (let r = 0; r < count; r++) {
    const label = r % classes;
    labels.push(label);
    for (let f = 0; f < features; f++) data[r * features + f]! += centers[label]![f]!;
  }
  return { data, labels };
}

/**
 * MLP classifier 64→256→10 (Gemm, Relu, MatMul+Add, Softmax), dynamic batch. Random features, then a
 * nearest-centroid head fitted in closed form to ten seeded input clusters: predictions vary over all
 * ten classes and have the margins of a trained model, so top-1 agreement is a meaningful test (a
 * head of pure noise puts ~1% of inputs on near-ties that any rounding flips).
 *
 * @example
 * const bytes = encodeModel(mlpClassifier(1));
 */
export function mlpClassifier(seed = 1): ModelProto {
  const { features, hidden, classes } = CLASSIFIER;
  const rand = seededRandom(seed);
  const w1 = weights(rand, hidden * features, features);
  const b1 = bias(rand, hidden);
  // Mean hidden activation per class over a fitting sample (disjoint seed from the test samples).
  const fit = classifierSamples(seed, classes * 40, seed + 12345);
  const means = Array.from({ length: classes }, () => new Float64Array(hidden));
  for (let r = 0; r < fit.labels.length; r++) {
    for (let h = 0; h < hidden; h++) {
      let acc = b1[h]!;
      for (let f = 0; f < features; f++) acc += w1[h * features + f]! * fit.data[r * features + f]!;
      means[fit.labels[r]!]![h]! += Math.max(acc, 0) / 40;
    }
  }
  // logit_k = h·m_k − |m_k|²/2 (nearest centroid), scaled so the softmax is neither flat nor one-hot.
  const scale = 4 / Math.max(...means.map((m) => m.reduce((a, v) => a + v * v, 0)));
  const w2 = new Float32Array(hidden * classes);
  const b2 = new Float32Array(classes);
  for (let k = 0; k < classes; k++) {
    let norm = 0;
    for (let h = 0; h < hidden; h++) {
      w2[h * classes + k] = means[k]![h]! * scale;
      norm += means[k]![h]! ** 2;
    }
    b2[k] = -0.5 * norm * scale;
  }
  return buildModel({
    name: "mlp_classifier",
    docString: "MLP classifier 64-256-10",
    nodes: [
      node("Gemm", ["input", "fc0.weight", "fc0.bias"], ["fc0.out"], [attr.int("transB", 1)], {
        name: "fc0/Gemm",
      }),
      node("Relu", ["fc0.out"], ["fc0.relu"], [], { name: "fc0/Relu" }),
      node("MatMul", ["fc0.relu", "fc1.weight"], ["fc1.mm"], [], { name: "fc1/MatMul" }),
      node("Add", ["fc1.mm", "fc1.bias"], ["logits"], [], { name: "fc1/Add" }),
      node("Softmax", ["logits"], ["probabilities"], [attr.int("axis", -1)], { name: "Softmax" }),
    ],
    initializers: [
      floatTensor("fc0.weight", [hidden, features], w1),
      floatTensor("fc0.bias", [hidden], b1),
      floatTensor("fc1.weight", [hidden, classes], w2),
      floatTensor("fc1.bias", [classes], b2),
    ],
    inputs: [tensorInfo("input", ElemType.FLOAT, ["batch", features])],
    outputs: [tensorInfo("probabilities", ElemType.FLOAT, ["batch", classes])],
  });
}

/** The serving benchmark model: 1024→4096→4096→1000, ~25.2 M parameters, ~100 MB FP32. */
export function benchmarkMlp(seed = 2): ModelProto {
  return mlp("benchmark_mlp", [1024, 4096, 4096, 1000], seed, "benchmark MLP 1024-4096-4096-1000");
}

/** Small CNN on [batch, 1, 28, 28]: Conv→Relu→MaxPool ×2, Flatten, Gemm to 10 logits. */
export function smallCnn(seed = 3): ModelProto {
  const rand = seededRandom(seed);
  const conv = (name: string, input: string, output: string, cin: number, cout: number) => ({
    nodes: [
      node(
        "Conv",
        [input, `${name}.weight`, `${name}.bias`],
        [`${name}.out`],
        [attr.ints("kernel_shape", [3, 3]), attr.ints("pads", [1, 1, 1, 1])],
      ),
      node("Relu", [`${name}.out`], [`${name}.relu`]),
      node(
        "MaxPool",
        [`${name}.relu`],
        [output],
        [attr.ints("kernel_shape", [2, 2]), attr.ints("strides", [2, 2])],
      ),
    ],
    initializers: [
      floatTensor(`${name}.weight`, [cout, cin, 3, 3], weights(rand, cout * cin * 9, cin * 9)),
      floatTensor(`${name}.bias`, [cout], bias(rand, cout)),
    ],
  });
  const c1 = conv("conv1", "image", "pool1", 1, 8);
  const c2 = conv("conv2", "pool1", "pool2", 8, 16);
  const head = dense(rand, "fc", "flat", "logits", 16 * 7 * 7, 10);
  return buildModel({
    name: "small_cnn",
    nodes: [
      ...c1.nodes,
      ...c2.nodes,
      node("Flatten", ["pool2"], ["flat"], [attr.int("axis", 1)]),
      ...head.nodes,
    ],
    initializers: [...c1.initializers, ...c2.initializers, ...head.initializers],
    inputs: [tensorInfo("image", ElemType.FLOAT, ["batch", 1, 28, 28])],
    outputs: [tensorInfo("logits", ElemType.FLOAT, ["batch", 10])],
  });
}

/** Two inputs a, b [batch, 32]: Concat(a, a + b) then MatMul to [batch, 16]. */
export function twoInput(seed = 4): ModelProto {
  const rand = seededRandom(seed);
  return buildModel({
    name: "two_input",
    nodes: [
      node("Add", ["a", "b"], ["sum"]),
      node("Concat", ["a", "sum"], ["joined"], [attr.int("axis", 1)]),
      node("MatMul", ["joined", "proj.weight"], ["output"]),
    ],
    initializers: [floatTensor("proj.weight", [64, 16], weights(rand, 64 * 16, 64))],
    inputs: [tensorInfo("a", ElemType.FLOAT, ["batch", 32]), tensorInfo("b", ElemType.FLOAT, ["batch", 32])],
    outputs: [tensorInfo("output", ElemType.FLOAT, ["batch", 16])],
  });
}

/** Batch fixed at 1: [1, 16] → MatMul → Relu → Reshape to [1, 8]; cannot be batched by the server. */
export function fixedBatch(seed = 5): ModelProto {
  const rand = seededRandom(seed);
  return buildModel({
    name: "fixed_batch",
    nodes: [
      node("MatMul", ["input", "w"], ["mm"]),
      node("Relu", ["mm"], ["act"]),
      node("Reshape", ["act", "shape"], ["output"]),
    ],
    initializers: [floatTensor("w", [16, 8], weights(rand, 16 * 8, 16)), int64Tensor("shape", [2], [1, 8])],
    inputs: [tensorInfo("input", ElemType.FLOAT, [1, 16])],
    outputs: [tensorInfo("output", ElemType.FLOAT, [1, 8])],
  });
}

/**
 * Bytes that are not an ONNX model: seeded noise that starts with a wire tag no ONNX field uses as
 * its first byte (0xff is an invalid varint-terminated tag), so decoding fails deterministically.
 */
export function invalidModelBytes(seed = 6, size = 4096): Uint8Array {
  const rand = seededRandom(seed);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = Math.floor(rand() * 256);
  bytes[0] = 0xff;
  bytes[1] = 0xff;
  return bytes;
}

/**
 * A large single-matrix model, y = x · W with W [side, side] FP32, whose weight is streamed to disk in
 * 4 MiB chunks from a seeded generator: side 16384 gives the ~1 GiB model for the large-upload path
 * without ever holding 1 GiB in memory.
 *
 * @example
 * await writeLargeModel("large.onnx", { side: 16384 }); // 1 GiB + a few hundred bytes
 */
export async function writeLargeModel(
  path: string,
  options: { side: number; seed?: number },
): Promise<number> {
  const { side } = options;
  const rand = seededRandom(options.seed ?? 7);
  const model = buildModel({
    name: "large_matmul",
    nodes: [node("MatMul", ["input", "weight"], ["output"])],
    inputs: [tensorInfo("input", ElemType.FLOAT, ["batch", side])],
    outputs: [tensorInfo("output", ElemType.FLOAT, ["batch", side])],
    docString: `large model for upload tests: ${side}x${side} FP32 weight`,
  });
  const byteLength = side * side * 4;
  const chunkFloats = 1024 * 1024;
  const scale = 1 / Math.sqrt(side);
  function* chunks(): Generator<Uint8Array> {
    for (let left = side * side; left > 0; left -= chunkFloats) {
      const chunk = new Float32Array(Math.min(left, chunkFloats));
      for (let i = 0; i < chunk.length; i++) chunk[i] = (rand() * 2 - 1) * scale;
      yield new Uint8Array(chunk.buffer);
    }
  }
  return writeStreamedModel(path, model, {
    tensor: { name: "weight", dims: [side, side], dataType: ElemType.FLOAT },
    byteLength,
    chunks: chunks(),
  });
}
