import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { collectDefaultMetrics, Registry } from "prom-client";
import ts from "typescript";

export type MetricType = "counter" | "gauge" | "histogram" | "summary";

export interface ExportedMetric {
  name: string;
  type: MetricType;
  /** Where it is declared, `path:line`, or `prom-client default metrics`. */
  source: string;
}

const CONSTRUCTORS: Record<string, MetricType> = {
  Counter: "counter",
  Gauge: "gauge",
  Histogram: "histogram",
  Summary: "summary",
  // The get-or-create helpers packages/runtime/src/metrics.ts and packages/quota/src/metrics.ts define.
  counter: "counter",
  gauge: "gauge",
  histogram: "histogram",
  summary: "summary",
};

function calleeName(node: ts.CallExpression | ts.NewExpression): string | undefined {
  const e = node.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return undefined;
}

/** `name: "x"` in an object literal argument, or a string literal argument (the helpers' style). */
function nameArgument(args: readonly ts.Expression[]): string | undefined {
  for (const arg of args) {
    if (ts.isObjectLiteralExpression(arg)) {
      for (const prop of arg.properties) {
        if (
          ts.isPropertyAssignment(prop) &&
          ts.isIdentifier(prop.name) &&
          prop.name.text === "name" &&
          ts.isStringLiteralLike(prop.initializer)
        )
          return prop.initializer.text;
      }
    }
    if (ts.isStringLiteralLike(arg) && /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(arg.text)) return arg.text;
  }
  return undefined;
}

async function sourceFiles(root: string, dirs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const dir of dirs) {
    const entries = await readdir(path.join(root, dir), { recursive: true, withFileTypes: true }).catch(
      () => [],
    );
    for (const e of entries) {
      const full = path.join(e.parentPath, e.name);
      if (!e.isFile() || !e.name.endsWith(".ts") || e.name.endsWith(".d.ts")) continue;
      if (/\.(int\.)?test\.ts$/.test(e.name) || full.includes(`${path.sep}node_modules${path.sep}`)) continue;
      files.push(full);
    }
  }
  return files.sort();
}

/**
 * Every prom-client metric the platform's source declares, found with the TypeScript parser:
 * `new Counter({ name: "…" })` and friends, and the get-or-create helpers (`counter(registry, { name })`,
 * `counter(registry, "name", …)`). Test files are skipped: a metric only a test registers is not
 * exported by anything deployed.
 *
 * @example
 * const metrics = await declaredMetrics("/repo"); // [{ name: "http_requests_total", type: "counter", … }]
 */
export async function declaredMetrics(
  root: string,
  dirs: readonly string[] = ["packages", "functions", "events"],
): Promise<ExportedMetric[]> {
  const out: ExportedMetric[] = [];
  for (const file of await sourceFiles(root, dirs)) {
    const text = await readFile(file, "utf8");
    if (!/prom-client|registry/i.test(text)) continue;
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && node.arguments) {
        const callee = calleeName(node);
        const type = callee && Object.hasOwn(CONSTRUCTORS, callee) ? CONSTRUCTORS[callee] : undefined;
        // Capitalised names only with `new`, helpers only as calls: `counter` the variable is not a metric.
        const shapeOk = callee && (ts.isNewExpression(node) ? /^[A-Z]/.test(callee) : /^[a-z]/.test(callee));
        const name = type && shapeOk ? nameArgument(node.arguments) : undefined;
        if (type && name) {
          const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          out.push({ name, type, source: `${path.relative(root, file)}:${line}` });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/**
 * prom-client's default metrics (process_*, nodejs_*), which the runtime registers for every function
 * (ensureDefaultMetrics in packages/runtime/src/metrics.ts). Same prom-client version as the runtime's
 * (one lockfile entry), so the names are the ones the functions expose.
 */
export async function defaultMetrics(): Promise<ExportedMetric[]> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const json = await registry.getMetricsAsJSON();
  return json.map((m) => ({
    name: m.name,
    type: String(m.type) as MetricType,
    source: "prom-client default metrics",
  }));
}

/** The series names a metric produces in the exposition format. */
export function seriesNames(metric: ExportedMetric): string[] {
  switch (metric.type) {
    case "histogram":
      return [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`];
    case "summary":
      return [metric.name, `${metric.name}_sum`, `${metric.name}_count`];
    default:
      return [metric.name];
  }
}
