// Grafana dashboards load only if their JSON model is well formed; grafana-dashboard.ts holds the
// zod schema they are checked against (see the note there on why not @grafana/schema).
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dashboardSchema } from "./grafana-dashboard.js";

const dir = path.resolve(import.meta.dirname, "../../infra/grafana");
const files = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();

async function load(file: string): Promise<unknown> {
  return JSON.parse(await readFile(path.join(dir, file), "utf8")) as unknown;
}

describe("Grafana dashboards", () => {
  it("cover gateway, quota, batching/cold starts, the functions and spend per tenant", () => {
    expect(files).toEqual(["functions.json", "gateway.json", "inference.json", "quota.json", "spend.json"]);
  });

  it.each(files)("%s matches the dashboard schema", async (file) => {
    const result = dashboardSchema.safeParse(await load(file));
    expect(result.success ? [] : result.error.issues).toEqual([]);
  });

  it("uids are unique across dashboards", async () => {
    const uids = await Promise.all(files.map(async (f) => ((await load(f)) as { uid: string }).uid));
    expect(new Set(uids).size).toBe(uids.length);
  });

  it("the schema rejects what Grafana would not load", async () => {
    const good = (await load("quota.json")) as {
      panels: { gridPos: { x: number; w: number } }[];
      uid: string;
    };
    const wide = structuredClone(good);
    wide.panels[1]!.gridPos.x = 20;
    expect(dashboardSchema.safeParse(wide).success).toBe(false);
    const badUid = { ...structuredClone(good), uid: "has spaces" };
    expect(dashboardSchema.safeParse(badUid).success).toBe(false);
    const noTargets = structuredClone(good) as unknown as { panels: { targets?: unknown[] }[] };
    noTargets.panels[1]!.targets = [];
    expect(dashboardSchema.safeParse(noTargets).success).toBe(false);
    const undefinedVar = structuredClone(good) as unknown as { panels: { targets?: { expr: string }[] }[] };
    undefinedVar.panels[1]!.targets![0]!.expr = 'sum(quota_decisions_total{tenant="$tenant"})';
    expect(dashboardSchema.safeParse(undefinedVar).success).toBe(false);
  });
});
