import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments } from "yaml";

export interface Rule {
  file: string;
  group: string;
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  for?: string;
}

interface PrometheusRuleDoc {
  kind?: string;
  spec?: { groups?: { name: string; rules: Omit<Rule, "file" | "group">[] }[] };
}

/** Every rule of every PrometheusRule under `dir` (recursively). */
export async function loadRules(dir: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries.filter((x) => x.isFile() && /\.ya?ml$/.test(x.name))) {
    const file = path.join(e.parentPath, e.name);
    for (const doc of parseAllDocuments(await readFile(file, "utf8"))) {
      const value = doc.toJS() as PrometheusRuleDoc | null;
      if (value?.kind !== "PrometheusRule") continue;
      for (const g of value.spec?.groups ?? [])
        for (const r of g.rules) rules.push({ ...r, file, group: g.name });
    }
  }
  return rules;
}

export interface DashboardQuery {
  file: string;
  panel: string;
  expr: string;
}

/** Every PromQL expression in the dashboards' panels and query variables. */
export async function loadDashboardQueries(dir: string): Promise<DashboardQuery[]> {
  const out: DashboardQuery[] = [];
  for (const name of (await readdir(dir)).filter((f) => f.endsWith(".json")).sort()) {
    const file = path.join(dir, name);
    const d = JSON.parse(await readFile(file, "utf8")) as {
      panels: { title: string; targets?: { expr: string }[] }[];
      templating: { list: { name: string; type: string; query?: { query?: string } | string }[] };
    };
    for (const p of d.panels)
      for (const t of p.targets ?? []) out.push({ file, panel: p.title, expr: t.expr });
    for (const v of d.templating.list) {
      if (v.type !== "query") continue;
      const q = typeof v.query === "string" ? v.query : v.query?.query;
      // label_values(<selector>, label): the selector inside is PromQL.
      const inner = q?.match(/^label_values\((.*),\s*\w+\)$/)?.[1];
      if (inner) out.push({ file, panel: `$${v.name}`, expr: inner });
    }
  }
  return out;
}
