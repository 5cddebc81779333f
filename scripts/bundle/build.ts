// Builds deployable folders: `tsx scripts/bundle/build.ts <function…> | --all [--out DIR] [--install copy|none]`.
// Each dist/bundles/<fn>/ runs with plain `node main.js`; see docs/deploy.md for why a bundle and not
// `pnpm deploy` (the workspace packages export TypeScript source, which plain node cannot load).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bundleFunction, listFunctions } from "./bundle-function.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    all: { type: "boolean", default: false },
    out: { type: "string" },
    install: { type: "string", default: "copy" },
  },
});
if (values.install !== "copy" && values.install !== "none") {
  console.error(`--install must be copy or none, got ${values.install}`);
  process.exit(2);
}
const names = values.all ? await listFunctions(root) : positionals;
if (names.length === 0) {
  console.error("usage: tsx scripts/bundle/build.ts <function…> | --all [--out DIR] [--install copy|none]");
  process.exit(2);
}
const outRoot = values.out ? path.resolve(values.out) : undefined;
// esbuild does the work in its own process, so building the functions concurrently overlaps well.
const results = await Promise.all(
  names.map((name) =>
    bundleFunction({
      root,
      name,
      install: values.install as "copy" | "none",
      ...(outRoot ? { outRoot } : {}),
    }),
  ),
);
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
for (const r of results) {
  const ext = Object.entries(r.externals).map(([n, v]) => `${n}@${v}`);
  console.log(
    `${r.name.padEnd(10)} ${path.relative(root, r.dir)}  js ${mb(r.jsBytes)}  total ${mb(r.totalBytes)}  ${r.ms} ms  externals: ${ext.join(", ") || "none"}`,
  );
}
