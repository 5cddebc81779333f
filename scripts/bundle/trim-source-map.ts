import { readFile, writeFile } from "node:fs/promises";
import { decode, encode, type SourceMapSegment } from "@jridgewell/sourcemap-codec";

export interface TrimResult {
  /** Mapping segments before and after (the decoded size Node keeps in memory scales with these). */
  segmentsBefore: number;
  segmentsAfter: number;
  sourcesBefore: number;
  sourcesAfter: number;
}

/** Workspace code keeps its mappings; dependencies under node_modules/ do not. */
export const isOwnSource = (source: string): boolean => !source.split(/[\\/]/).includes("node_modules");

/**
 * Rewrites an esbuild source map so that only the workspace's own sources keep mappings.
 *
 * Why: `node --enable-source-maps` decodes the whole map into one array per segment the first time a
 * stack or a call site is mapped, and keeps it for the life of the process. pino() maps its caller's
 * call sites when a logger is created (pino/lib/caller.js, `util.getCallSites`), so every function pays
 * at start: for the control bundle (4 MB) that was ~430k segments, ~80 MiB of heap and ~120 MiB of
 * RSS, 93% of it for node_modules code. Frames in dependencies now print in main.js coordinates
 * (keepNames keeps their function names); frames in our code still map to the .ts line.
 *
 * Node's `SourceMap.findEntry` answers the nearest earlier segment even on another line, so each run
 * of dependency code starts with a source-less segment: without it, a dependency frame would be
 * reported at the last line of whichever workspace file precedes it in the bundle.
 *
 * @example
 * await trimSourceMap(path.join(dir, "main.js.map"));
 */
export async function trimSourceMap(
  mapFile: string,
  keep: (source: string) => boolean = isOwnSource,
): Promise<TrimResult> {
  const map = JSON.parse(await readFile(mapFile, "utf8")) as {
    sources: string[];
    sourcesContent?: (string | null)[];
    mappings: string;
  };
  const newIndex: (number | undefined)[] = [];
  const sources: string[] = [];
  const contents: (string | null)[] = [];
  map.sources.forEach((source, i) => {
    if (!keep(source)) return;
    newIndex[i] = sources.length;
    sources.push(source);
    contents.push(map.sourcesContent?.[i] ?? null);
  });
  let segmentsBefore = 0;
  let segmentsAfter = 0;
  let inOwn = false;
  const lines = decode(map.mappings).map((line) => {
    const out: SourceMapSegment[] = [];
    for (const seg of line) {
      segmentsBefore++;
      const index = seg.length > 1 ? newIndex[seg[1] as number] : undefined;
      if (index !== undefined) {
        out.push([seg[0], index, ...seg.slice(2)] as SourceMapSegment);
        inOwn = true;
      } else if (inOwn) {
        out.push([seg[0]]);
        inOwn = false;
      } else continue;
      segmentsAfter++;
    }
    return out;
  });
  const sourcesBefore = map.sources.length;
  const trimmed = {
    ...map,
    sources,
    mappings: encode(lines),
    ...(map.sourcesContent ? { sourcesContent: contents } : {}),
  };
  await writeFile(mapFile, JSON.stringify(trimmed));
  return { segmentsBefore, segmentsAfter, sourcesBefore, sourcesAfter: sources.length };
}
