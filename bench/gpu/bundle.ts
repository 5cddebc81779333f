// Builds <out>/ (default .gpu/app) for a machine with node but no workspace: bench/gpu.ts and its session
// worker bundled for plain node, the inference function bundled into <out>/inference/, and
// onnxruntime-node (+ its dependencies) copied into <out>/node_modules/, which both resolve.
// `pnpm exec tsx bench/gpu/bundle.ts [out]`; bench/gpu/pack.sh calls it.
import { mkdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BANNER, bundleFunction } from "../../scripts/bundle/bundle-function.js";
import { copyPackages, findPackageDir } from "../../scripts/bundle/externals.js";
import { type SourceScanResult, sourceScan } from "../../scripts/bundle/source-scan.js";

interface EsbuildLike {
  build(options: Record<string, unknown>): Promise<unknown>;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = path.resolve(process.argv[2] ?? path.join(root, ".gpu", "app"));
// esbuild is a dependency of scripts/, not of bench/: load it from there.
const esbuild = createRequire(path.join(root, "scripts", "package.json"))("esbuild") as EsbuildLike;

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  keepNames: true,
  legalComments: "none",
  // The same ESM shims as scripts/bundle: inlined CommonJS still calls require and reads __dirname.
  banner: { js: BANNER },
  logLevel: "warning",
  external: ["onnxruntime-node"],
};

const t0 = performance.now();
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const scan: SourceScanResult = { workers: [], resolvedPackages: new Map() };
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, "bench", "gpu.ts")],
  outfile: path.join(out, "gpu.js"),
  plugins: [sourceScan(scan)],
});
for (const w of scan.workers) {
  await esbuild.build({
    ...common,
    entryPoints: [w.source],
    outfile: path.join(out, w.output),
    plugins: [sourceScan({ workers: [], resolvedPackages: new Map() })],
  });
}
// The service itself, as deployed (scripts/bundle) with its external packages (pglite…), less its own
// copy of onnxruntime-node: <out>/node_modules holds the one both use.
await bundleFunction({ root, name: "inference", outRoot: out, install: "copy" });
await rm(path.join(out, "inference", "node_modules", "onnxruntime-node"), { recursive: true, force: true });
const ortDir = await findPackageDir("onnxruntime-node", path.join(root, "functions", "inference"));
if (!ortDir) throw new Error("onnxruntime-node is not installed under functions/inference");
const copied = await copyPackages([{ name: "onnxruntime-node", dir: ortDir }], out);
console.log(
  `${path.relative(root, out)}: gpu.js, ${scan.workers.map((w) => w.output).join(", ")}, inference/main.js,`,
  `packages ${copied.map((c) => `${c.name}@${c.version}`).join(", ")} (${Math.round(performance.now() - t0)} ms)`,
);
