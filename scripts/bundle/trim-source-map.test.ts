import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trimSourceMap } from "./trim-source-map.js";

// A two-file bundle: a dependency under node_modules/ between two workspace files, so the dependency
// run sits after workspace code (the case Node's nearest-earlier-segment lookup gets wrong).
let dir: string;
let js: string[];
let map: SourceMap;
let result: Awaited<ReturnType<typeof trimSourceMap>>;
const lineOf = (text: string) => js.findIndex((l) => l.includes(text));
// findEntry answers `{}` or a mapping whose original fields are undefined where nothing maps.
const original = (entry: object) => entry as { originalSource?: string; originalLine?: number };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "maas-trim-map-"));
  await mkdir(path.join(dir, "node_modules/dep"), { recursive: true });
  await mkdir(path.join(dir, "src"));
  await writeFile(
    path.join(dir, "node_modules/dep/package.json"),
    '{"name":"dep","type":"module","main":"index.js"}',
  );
  await writeFile(
    path.join(dir, "node_modules/dep/index.js"),
    'export function depCall(f) {\n  return f(() => { throw new Error("from dep"); });\n}\n',
  );
  await writeFile(path.join(dir, "src/first.ts"), "export const first = (): number => 1;\n");
  await writeFile(
    path.join(dir, "src/main.ts"),
    'import { first } from "./first.js";\nimport { depCall } from "dep";\nexport function ownCall(): number {\n  return depCall((g: () => void) => g()) ?? first();\n}\n',
  );
  await build({
    entryPoints: [path.join(dir, "src/main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    sourcemap: "linked",
    outfile: path.join(dir, "out/main.js"),
    logLevel: "silent",
  });
  result = await trimSourceMap(path.join(dir, "out/main.js.map"));
  js = (await readFile(path.join(dir, "out/main.js"), "utf8")).split("\n");
  map = new SourceMap(JSON.parse(await readFile(path.join(dir, "out/main.js.map"), "utf8")));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("trimSourceMap", () => {
  it("drops the node_modules sources and their segments", () => {
    expect(result.sourcesBefore).toBe(3);
    expect(result.sourcesAfter).toBe(2);
    expect(result.segmentsAfter).toBeLessThan(result.segmentsBefore);
    expect(map.payload.sources.some((s) => s.includes("node_modules"))).toBe(false);
  });

  it("still maps workspace code to its .ts line", () => {
    const entry = original(map.findEntry(lineOf("function ownCall"), 0));
    expect(entry.originalSource).toMatch(/src\/main\.ts$/);
    expect(entry.originalLine).toBe(2);
  });

  it("leaves dependency code after workspace code unmapped rather than pinned to the file before it", () => {
    const line = lineOf('throw new Error("from dep")');
    expect(line).toBeGreaterThan(lineOf("first = "));
    expect(original(map.findEntry(line, 4)).originalSource).toBeUndefined();
    // …while the workspace file before the dependency still maps to itself.
    expect(original(map.findEntry(lineOf("first = "), 0)).originalSource).toMatch(/src\/first\.ts$/);
  });
});
