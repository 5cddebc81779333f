// Every metric an alert or a dashboard reads must exist: either declared by the platform's code
// (prom-client, found by parsing the TypeScript source), a prom-client default metric, a recording
// rule of ours, or one of the few infrastructure exporters we deploy ourselves (listed below with
// the manifest that turns them on). A name nobody exports would make an alert that can never fire.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { declaredMetrics, defaultMetrics, type ExportedMetric, seriesNames } from "./exported-metrics.js";
import { scanPromql } from "./promql.js";
import { type DashboardQuery, loadDashboardQueries, loadRules, type Rule } from "./rules-and-dashboards.js";

const root = path.resolve(import.meta.dirname, "../..");

/** Exported by Strimzi's Kafka Exporter, which infra/cluster/kafka/kafka.yaml enables. */
const KAFKA_EXPORTER = ["kafka_consumergroup_lag", "kafka_topic_partition_current_offset"];

let declared: ExportedMetric[];
let known: Map<string, string>;
let rules: Rule[];
let queries: DashboardQuery[];

beforeAll(async () => {
  declared = await declaredMetrics(root);
  const defaults = await defaultMetrics();
  rules = await loadRules(path.join(root, "infra", "cluster"));
  queries = await loadDashboardQueries(path.join(root, "infra", "grafana"));
  known = new Map();
  for (const m of [...declared, ...defaults]) for (const s of seriesNames(m)) known.set(s, m.source);
  for (const r of rules)
    if (r.record) known.set(r.record, `recording rule in ${path.relative(root, r.file)}`);
  for (const k of KAFKA_EXPORTER) known.set(k, "Strimzi Kafka Exporter");
});

describe("metric names in rules and dashboards", () => {
  it("finds the metrics the code declares, with their types", () => {
    const byName = new Map(declared.map((m) => [m.name, m.type]));
    expect(byName.get("http_requests_total")).toBe("counter");
    expect(byName.get("http_request_duration_seconds")).toBe("histogram");
    expect(byName.get("cloudevents_received_total")).toBe("counter");
    expect(byName.get("quota_decisions_total")).toBe("counter");
    expect(byName.get("inference_batch_size")).toBe("histogram");
    expect(byName.get("inference_cold_start_seconds")).toBe("gauge");
    expect(known.has("inference_batch_size_bucket")).toBe(true);
    expect(known.has("nodejs_eventloop_lag_p99_seconds")).toBe(true);
  });

  it("finds rules and dashboard queries to check", () => {
    expect(rules.filter((r) => r.alert).length).toBeGreaterThanOrEqual(10);
    expect(rules.filter((r) => r.record).length).toBeGreaterThan(0);
    expect(queries.length).toBeGreaterThan(20);
  });

  it("every rule and dashboard expression is valid PromQL", () => {
    const errors = [
      ...rules.map((r) => [`${r.alert ?? r.record}`, scanPromql(r.expr).errors] as const),
      ...queries.map((q) => [`${path.basename(q.file)} ${q.panel}`, scanPromql(q.expr).errors] as const),
    ].filter(([, e]) => e.length > 0);
    expect(errors).toEqual([]);
  });

  it("every metric they read is exported by the code, a recording rule, or Kafka Exporter", () => {
    const unknown: string[] = [];
    for (const r of rules)
      for (const m of scanPromql(r.expr).metrics)
        if (!known.has(m)) unknown.push(`${path.relative(root, r.file)} ${r.alert ?? r.record}: ${m}`);
    for (const q of queries)
      for (const m of scanPromql(q.expr).metrics)
        if (!known.has(m)) unknown.push(`${path.relative(root, q.file)} "${q.panel}": ${m}`);
    expect(unknown).toEqual([]);
  });

  it("histograms are read through their series, never by the bare name", () => {
    const histograms = new Set(declared.filter((m) => m.type === "histogram").map((m) => m.name));
    const bare = [...rules.map((r) => r.expr), ...queries.map((q) => q.expr)].flatMap((e) =>
      scanPromql(e).metrics.filter((m) => histograms.has(m)),
    );
    expect(bare).toEqual([]);
  });

  it("Kafka Exporter metrics are only used because the Kafka cluster enables the exporter", async () => {
    const kafka = await readFile(path.join(root, "infra/cluster/kafka/kafka.yaml"), "utf8");
    expect(kafka).toMatch(/^ {2}kafkaExporter:/m);
  });

  it("the check catches a misspelt metric and broken PromQL", () => {
    expect(scanPromql('sum(rate(http_request_total{function="gateway"}[5m]))').metrics).toEqual([
      "http_request_total",
    ]);
    expect(known.has("http_request_total")).toBe(false);
    expect(scanPromql("sum(rate(http_requests_total[5m])").errors).not.toEqual([]);
    expect(scanPromql('{__name__="quota_redis_degraded"}').metrics).toEqual(["quota_redis_degraded"]);
    expect(scanPromql("rate(x[$__rate_interval])").errors).toEqual([]);
  });
});
