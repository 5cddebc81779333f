import { cp, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";

/**
 * Packages the bundle leaves external and ships as real folders in `node_modules/`:
 * - onnxruntime-node: a native addon (`.node` + libonnxruntime.so) that esbuild cannot inline; its
 *   install script also adds the CUDA EP libraries in the CUDA image.
 * - @electric-sql/pglite: loads its WASM and data files relative to its own module URL.
 * - pg-native: pg's optional native driver; never installed, left external so `pg` keeps its lazy
 *   `require` behind a try.
 * - @platformatic/kafka: its CRC32C and compression come from a WASM file its dependency
 *   (@platformatic/wasm-utils) reads relative to its own module URL.
 */
export const EXTERNAL_PACKAGES: readonly string[] = [
  "onnxruntime-node",
  "@electric-sql/pglite",
  "pg-native",
  "@platformatic/kafka",
];

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

export function isExternal(specifier: string): boolean {
  return EXTERNAL_PACKAGES.includes(packageName(specifier));
}

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Node's lookup: the nearest `node_modules/<name>` walking up from `fromDir`; undefined if none. */
export async function findPackageDir(name: string, fromDir: string): Promise<string | undefined> {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, "node_modules", name);
    if (await exists(path.join(candidate, "package.json"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export async function readPackageJson(dir: string): Promise<PackageJson> {
  return JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as PackageJson;
}

/**
 * Files a package ships that no Linux container needs; onnxruntime-node carries every platform's
 * binaries (≈290 MB), of which one architecture's is needed.
 */
function keepFile(packageName: string, relative: string): boolean {
  if (packageName === "onnxruntime-node") {
    const m = /^bin\/napi-v\d+\/([^/]+)(?:\/([^/]+))?/.exec(relative);
    if (m && (m[1] !== "linux" || (m[2] !== undefined && m[2] !== process.arch))) return false;
  }
  return true;
}

export interface CopiedPackage {
  name: string;
  version: string;
  /** Where it went, relative to the bundle folder. */
  into: string;
}

/**
 * Copies packages and their production dependencies (transitively) from the workspace's
 * node_modules into `<bundleDir>/node_modules`, npm-style: flat where names do not clash, nested
 * under the dependent otherwise. Offline and exactly the lockfile's versions, because it copies
 * what pnpm installed.
 *
 * @example
 * await copyPackages([{ name: "onnxruntime-node", dir: "/repo/node_modules/.pnpm/…/onnxruntime-node" }], "dist/bundles/inference");
 */
export async function copyPackages(
  roots: readonly { name: string; dir: string }[],
  bundleDir: string,
): Promise<CopiedPackage[]> {
  const copied: CopiedPackage[] = [];
  // top-level name → version already placed at <bundle>/node_modules/<name>
  const flat = new Map<string, string>();

  async function place(name: string, dir: string, parentInto: string | undefined): Promise<void> {
    const real = await realpath(dir);
    const pkg = await readPackageJson(real);
    let into: string;
    const placed = flat.get(name);
    if (placed === pkg.version) return;
    if (placed === undefined) {
      into = path.join("node_modules", name);
      flat.set(name, pkg.version);
    } else {
      // A different version is already flat: nest it under whoever needs it.
      into = path.join(parentInto ?? "", "node_modules", name);
      if (await exists(path.join(bundleDir, into))) return;
    }
    await cp(real, path.join(bundleDir, into), {
      recursive: true,
      dereference: true,
      filter: (src) => {
        const rel = path.relative(real, src).split(path.sep).join("/");
        return !rel.startsWith("node_modules") && keepFile(pkg.name, rel);
      },
    });
    copied.push({ name, version: pkg.version, into });
    const deps = { ...pkg.dependencies, ...pkg.optionalDependencies };
    for (const dep of Object.keys(deps)) {
      const depDir = await findPackageDir(dep, path.dirname(real));
      // A missing optional dependency is what pnpm decided for this platform; keep going.
      if (depDir) await place(dep, depDir, into);
    }
  }

  for (const root of roots) await place(root.name, root.dir, undefined);
  return copied;
}
