import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { build, type Plugin } from "esbuild";
import {
  type CopiedPackage,
  copyPackages,
  findPackageDir,
  isExternal,
  packageName,
  readPackageJson,
} from "./externals.js";
import { type SourceScanResult, sourceScan } from "./source-scan.js";
import { trimSourceMap } from "./trim-source-map.js";

export interface BundleOptions {
  /** Repository root (holds functions/ and node_modules/). */
  root: string;
  /** Function folder name under functions/. */
  name: string;
  /** Folder that receives `<name>/`; default `<root>/dist/bundles`. */
  outRoot?: string;
  /**
   * `copy` puts the external packages into the bundle's node_modules from the workspace (offline,
   * the lockfile's exact versions); `none` leaves installing them to `npm install` in the folder.
   */
  install?: "copy" | "none";
}

export interface BundleResult {
  name: string;
  dir: string;
  /** External packages main.js imports, with the versions written to package.json. */
  externals: Record<string, string>;
  copied: CopiedPackage[];
  /** Bytes of the JavaScript files (main.js + workers). */
  jsBytes: number;
  /** Bytes of the whole folder, node_modules included. */
  totalBytes: number;
  ms: number;
}

/*
 * CommonJS dependencies inlined into an ESM bundle still call `require` for Node built-ins and read
 * `__dirname`; ESM has neither, so the banner defines them once at the top of each output file.
 */
export const BANNER = [
  'import { createRequire as __maasCreateRequire } from "node:module";',
  'import { fileURLToPath as __maasFileURLToPath } from "node:url";',
  'import { dirname as __maasDirname } from "node:path";',
  "const require = __maasCreateRequire(import.meta.url);",
  "const __filename = __maasFileURLToPath(import.meta.url);",
  "const __dirname = __maasDirname(__filename);",
].join("\n");

/** Marks the native/asset-loading packages external and remembers where each one resolved from. */
function externals(found: Map<string, string | undefined>): Plugin {
  return {
    name: "maas-externals",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.path.startsWith("node:") || !isExternal(args.path)) return undefined;
        const name = packageName(args.path);
        if (!found.get(name)) found.set(name, await findPackageDir(name, args.resolveDir));
        return { path: args.path, external: true };
      });
    },
  };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return total;
}

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  sourcemap: "linked",
  // Keeps function and class names in stack traces and pino's `err.type`.
  keepNames: true,
  legalComments: "none",
  banner: { js: BANNER },
  logLevel: "warning",
} as const;

/**
 * Bundles `functions/<name>/src/main.ts` into `<outRoot>/<name>/main.js` (ESM, Node 24, workspace
 * packages and pure-JS dependencies inlined), bundles each worker_threads entry beside it, and writes a
 * package.json that lists only the external packages. The folder runs with `node main.js`.
 *
 * @example
 * const r = await bundleFunction({ root: repoRoot, name: "gateway", install: "copy" });
 * // r.dir = <root>/dist/bundles/gateway, r.externals = {}
 */
export async function bundleFunction(options: BundleOptions): Promise<BundleResult> {
  const started = performance.now();
  const { root, name } = options;
  const dir = path.join(options.outRoot ?? path.join(root, "dist", "bundles"), name);
  const entry = path.join(root, "functions", name, "src", "main.ts");
  await stat(entry).catch(() => {
    throw new Error(`no function "${name}": ${path.relative(root, entry)} does not exist`);
  });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });

  const found = new Map<string, string | undefined>();
  const scan: SourceScanResult = { workers: [], resolvedPackages: new Map() };
  await build({
    ...common,
    entryPoints: [entry],
    outfile: path.join(dir, "main.js"),
    plugins: [externals(found), sourceScan(scan)],
  });
  await trimSourceMap(path.join(dir, "main.js.map"));
  const workers = [...scan.workers];
  for (const w of workers) {
    await build({
      ...common,
      entryPoints: [w.source],
      outfile: path.join(dir, w.output),
      plugins: [externals(found), sourceScan({ workers: [], resolvedPackages: scan.resolvedPackages })],
    });
    await trimSourceMap(path.join(dir, `${w.output}.map`));
  }
  // Packages the code locates by path ship as folders too, like the externals.
  for (const [name, fromDir] of scan.resolvedPackages) {
    if (!found.get(name)) found.set(name, await findPackageDir(name, fromDir));
  }

  // Only externals that resolved are installed: an unresolved one (pg-native) is optional by design.
  const resolved = [...found].filter((e): e is [string, string] => e[1] !== undefined);
  const versions: Record<string, string> = {};
  for (const [pkg, pkgDir] of resolved.sort(([a], [b]) => a.localeCompare(b))) {
    versions[pkg] = (await readPackageJson(pkgDir)).version;
  }
  const fnPkg = await readPackageJson(path.join(root, "functions", name));
  await writeFile(
    path.join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: fnPkg.name,
        version: fnPkg.version,
        private: true,
        type: "module",
        main: "main.js",
        engines: { node: ">=24 <25" },
        scripts: { start: "node --enable-source-maps main.js" },
        dependencies: versions,
      },
      null,
      2,
    )}\n`,
  );

  const copied =
    options.install === "copy"
      ? await copyPackages(
          resolved.map(([n, d]) => ({ name: n, dir: d })),
          dir,
        )
      : [];
  const jsFiles = ["main.js", ...workers.map((w) => w.output)];
  let jsBytes = 0;
  for (const f of jsFiles) jsBytes += (await stat(path.join(dir, f))).size;
  return {
    name,
    dir,
    externals: versions,
    copied,
    jsBytes,
    totalBytes: await folderBytes(dir),
    ms: Math.round(performance.now() - started),
  };
}

/** Function folder names under `<root>/functions` that have a `src/main.ts`. */
export async function listFunctions(root: string): Promise<string[]> {
  const entries = await readdir(path.join(root, "functions"), { withFileTypes: true });
  const names: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const main = path.join(root, "functions", e.name, "src", "main.ts");
    if (
      await stat(main).then(
        () => true,
        () => false,
      )
    )
      names.push(e.name);
  }
  return names.sort();
}
