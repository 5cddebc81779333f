import type { SyntaxNode } from "@lezer/common";
import { parser } from "@prometheus-io/lezer-promql";

export interface PromqlScan {
  /** Metric names the expression selects (`name{…}` and `{__name__="name"}`). */
  metrics: string[];
  /** Parse errors as `offset: text near it`; empty for a valid expression. */
  errors: string[];
}

/*
 * Grafana replaces its macros before the query reaches Prometheus; the parser needs a valid stand-in.
 * Only macros outside string literals matter: `"$route"` inside a matcher is already valid PromQL.
 */
function expandGrafanaMacros(expr: string): string {
  return expr.replace(/\$\{?__(?:rate_interval|interval|range)(?:_ms|_s)?\}?/g, "5m");
}

/**
 * Parses PromQL with Prometheus's own Lezer grammar (@prometheus-io/lezer-promql, the one the
 * Prometheus UI uses) and returns the metric names it selects and any syntax errors.
 *
 * @example
 * scanPromql('sum(rate(http_requests_total{function="gateway"}[5m]))').metrics; // ["http_requests_total"]
 */
export function scanPromql(source: string): PromqlScan {
  const expr = expandGrafanaMacros(source);
  const tree = parser.parse(expr);
  const metrics = new Set<string>();
  const errors: string[] = [];
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError)
        errors.push(`${ref.from}: ${JSON.stringify(expr.slice(Math.max(0, ref.from - 20), ref.to + 20))}`);
      if (ref.name === "VectorSelector") {
        const id = ref.node.getChild("Identifier");
        if (id) metrics.add(text(id));
      }
      if (ref.name === "UnquotedLabelMatcher") {
        const name = ref.node.getChild("LabelName");
        const value = ref.node.getChild("StringLiteral");
        if (name && value && text(name) === "__name__") metrics.add(text(value).slice(1, -1));
      }
    },
  });
  return { metrics: [...metrics], errors };
}
