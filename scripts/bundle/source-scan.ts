import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Plugin } from "esbuild";
import { packageName } from "./externals.js";

/** `new URL("./session-worker.ts", import.meta.url)`: how sources name a worker_threads entry file. */
const WORKER_URL = /new URL\(\s*(["'])(\.{1,2}\/[^"']+)\.(ts|js)\1\s*,\s*import\.meta\.url\s*\)/g;
/** `createRequire(…).resolve("pkg/file")` or `import.meta.resolve("pkg")`: a package read as files. */
const PACKAGE_RESOLVE = /\.resolve\(\s*["']((?:@[\w.-]+\/)?[\w.-]+)(?:\/[^"']*)?["']\s*\)/g;

export interface WorkerEntry {
  /** Absolute path of the worker's source file. */
  source: string;
  /** File name the bundle emits for it, beside main.js. */
  output: string;
}

export interface SourceScanResult {
  workers: WorkerEntry[];
  /** Packages whose files the code locates at run time (package name → directory to resolve from). */
  resolvedPackages: Map<string, string>;
}

/**
 * A bundle is one file, so anything the sources find relative to a module's location breaks:
 * - worker entry files (`new URL("./x.ts", import.meta.url)`) are rewritten to `./x.js` beside the
 *   bundle and recorded, so the caller bundles each as its own entry;
 * - packages located with `require.resolve`/`import.meta.resolve` (to serve their files, e.g.
 *   swagger-ui-dist's assets) are recorded, so the caller ships them as real folders.
 *
 * @example
 * const scan: SourceScanResult = { workers: [], resolvedPackages: new Map() };
 * await esbuild.build({ …, plugins: [sourceScan(scan)] });
 */
export function sourceScan(result: SourceScanResult): Plugin {
  return {
    name: "maas-source-scan",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const text = await readFile(args.path, "utf8");
        if (!text.includes("import.meta")) return undefined;
        for (const m of text.matchAll(PACKAGE_RESOLVE)) {
          const name = packageName(m[1]!);
          if (!name.startsWith("node:") && !result.resolvedPackages.has(name))
            result.resolvedPackages.set(name, path.dirname(args.path));
        }
        const contents = text.replace(WORKER_URL, (_all, quote: string, rel: string) => {
          const source = path.resolve(path.dirname(args.path), `${rel}.ts`);
          const output = `${path.basename(rel)}.js`;
          if (!result.workers.some((w) => w.source === source)) result.workers.push({ source, output });
          return `new URL(${quote}./${output}${quote}, import.meta.url)`;
        });
        return { contents, loader: "ts" };
      });
    },
  };
}
