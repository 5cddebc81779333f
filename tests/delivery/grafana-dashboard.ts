import { z } from "zod";

/*
 * The parts of Grafana's dashboard JSON model (schemaVersion 39, Grafana 10/11) that Grafana needs to
 * load a dashboard and that our dashboards use, written from the model's documentation and
 * @grafana/schema's Dashboard/Panel types. @grafana/schema ships TypeScript types only, no runtime
 * validator, so this zod schema is the check. Unknown keys are allowed (Grafana adds many), except
 * where a typo would silently drop a setting.
 */

const gridPos = z
  .object({
    x: z.number().int().min(0).max(23),
    y: z.number().int().min(0),
    w: z.number().int().min(1).max(24),
    h: z.number().int().min(1),
  })
  .strict()
  .refine((g) => g.x + g.w <= 24, "panel extends past the 24-column grid");

const datasourceRef = z.object({ type: z.string().min(1), uid: z.string().min(1) });

const target = z.object({
  refId: z.string().regex(/^[A-Z]+$/),
  expr: z.string().min(1),
  legendFormat: z.string().optional(),
  datasource: datasourceRef.optional(),
});

const PANEL_TYPES = [
  "timeseries",
  "stat",
  "gauge",
  "bargauge",
  "heatmap",
  "table",
  "text",
  "piechart",
  "row",
] as const;

const basePanel = z.object({
  id: z.number().int().positive(),
  title: z.string().min(1),
  gridPos,
  description: z.string().optional(),
});

const rowPanel = basePanel.extend({
  type: z.literal("row"),
  collapsed: z.boolean(),
  panels: z.array(z.unknown()),
});

const queryPanel = basePanel.extend({
  type: z.enum(PANEL_TYPES).exclude(["row"]),
  datasource: datasourceRef,
  targets: z.array(target).min(1),
  fieldConfig: z.object({
    defaults: z.object({ unit: z.string().optional() }).passthrough(),
    overrides: z.array(z.unknown()),
  }),
  options: z.record(z.string(), z.unknown()),
});

export const panelSchema = z.union([rowPanel, queryPanel]);

const variable = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  type: z.enum(["query", "datasource", "custom", "constant", "interval", "textbox", "adhoc"]),
  label: z.string().optional(),
});

export const dashboardSchema = z
  .object({
    uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
    title: z.string().min(1),
    tags: z.array(z.string()),
    timezone: z.string(),
    editable: z.boolean(),
    schemaVersion: z.number().int().min(36),
    version: z.number().int().nonnegative(),
    time: z.object({ from: z.string(), to: z.string() }),
    refresh: z.string(),
    templating: z.object({ list: z.array(variable) }),
    annotations: z.object({ list: z.array(z.unknown()) }),
    panels: z.array(panelSchema).min(1),
  })
  .superRefine((d, ctx) => {
    const ids = d.panels.map((p) => p.id);
    if (new Set(ids).size !== ids.length)
      ctx.addIssue({ code: "custom", message: "panel ids must be unique" });
    const vars = new Set(d.templating.list.map((v) => v.name));
    for (const p of d.panels) {
      if (p.type === "row") continue;
      const uid = p.datasource.uid.match(/^\$\{?(\w+)\}?$/)?.[1];
      if (uid && !vars.has(uid))
        ctx.addIssue({ code: "custom", message: `panel ${p.id} uses undefined datasource variable ${uid}` });
      for (const t of p.targets)
        for (const m of t.expr.matchAll(/\$\{?([A-Za-z_]\w*)\}?/g))
          if (!m[1]!.startsWith("__") && !vars.has(m[1]!))
            ctx.addIssue({ code: "custom", message: `panel ${p.id} uses undefined variable $${m[1]}` });
    }
    // Overlapping panels render on top of each other.
    const boxes = d.panels.map((p) => p.gridPos);
    for (let a = 0; a < boxes.length; a++)
      for (let b = a + 1; b < boxes.length; b++) {
        const A = boxes[a]!;
        const B = boxes[b]!;
        if (A.x < B.x + B.w && B.x < A.x + A.w && A.y < B.y + B.h && B.y < A.y + A.h)
          ctx.addIssue({
            code: "custom",
            message: `panels ${d.panels[a]!.id} and ${d.panels[b]!.id} overlap`,
          });
      }
  });

export type Dashboard = z.infer<typeof dashboardSchema>;
