// infra/cluster: every object validates (CRDs against ../shared/schemas/crds, core kinds with
// kubernetes-models), and the pieces agree with each other and with knative/: the bootstrap address,
// topics, secrets and endpoints the Knative Services read exist here, every function is scraped, and
// every alert has a runbook section in docs/operations.md.
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { collectManifests, createManifestValidator, goRegExp, type ManifestDocument } from "@maas/k8s";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadRules } from "./rules-and-dashboards.js";

const root = path.resolve(import.meta.dirname, "../..");
const schemaDir = path.resolve(root, "../shared/schemas/crds");
let infra: ManifestDocument[];
let knative: ManifestDocument[];

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are already schema-validated; tests read nested fields.
  spec: any;
  data?: Record<string, string>;
}
const objs = (docs: ManifestDocument[]) => docs.map((d) => d.value as unknown as Obj);
const find = (docs: ManifestDocument[], kind: string, name?: string) =>
  objs(docs).filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

beforeAll(async () => {
  infra = await collectManifests([path.join(root, "infra", "cluster")]);
  knative = await collectManifests([path.join(root, "knative", "base")]);
});

describe("infra/cluster manifests", () => {
  it("has the platform's stateful services and monitoring", () => {
    const kinds = objs(infra).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "Kafka/maas-kafka",
        "KafkaTopic/maas-events",
        "KafkaTopic/maas-usage",
        "KafkaTopic/maas-dlq",
        "Cluster/maas-postgres",
        "StatefulSet/maas-redis",
        "Service/maas-redis",
        "StatefulSet/minio",
        "Service/minio",
        "ServiceMonitor/maas-functions",
        "PrometheusRule/maas-slo",
        "PrometheusRule/maas-platform",
      ]),
    );
  });

  it("every object validates against its schema (Go regex patterns understood)", async () => {
    // The shared validator's Ajv cannot compile RE2's `(?i)` (PrometheusRule's schema has one), so
    // custom resources are checked here with an Ajv that can; core kinds go through @maas/k8s.
    const ajv = new Ajv({
      strict: false,
      allErrors: true,
      validateFormats: true,
      code: { regExp: goRegExp },
    });
    addFormats.default(ajv);
    const compiled = new Map<string, ValidateFunction>();
    const core = createManifestValidator(schemaDir);
    const problems: string[] = [];
    for (const d of infra) {
      const o = d.value as unknown as Obj;
      const where = `${path.relative(root, d.file)}#${d.index} ${o.kind}/${o.metadata?.name}`;
      const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
      if (!group!.includes(".") || group!.endsWith(".k8s.io")) {
        for (const p of await core.validate(d.value)) problems.push(`${where}: ${p}`);
        continue;
      }
      const file = path.join(schemaDir, group!, `${o.kind.toLowerCase()}_${version}.json`);
      if (!existsSync(file)) {
        problems.push(`${where}: no schema`);
        continue;
      }
      let validate = compiled.get(file);
      if (!validate) {
        validate = ajv.compile(JSON.parse(readFileSync(file, "utf8")) as object);
        compiled.set(file, validate);
      }
      if (!validate(o))
        for (const e of validate.errors ?? []) problems.push(`${where}: ${e.instancePath} ${e.message}`);
    }
    expect(problems).toEqual([]);
  });

  it("the Go-regex engine accepts (?i) and still rejects what the pattern rejects", () => {
    const ajv = new Ajv({ code: { regExp: goRegExp } });
    const v = ajv.compile({ type: "string", pattern: "^(?i)(abort|warn)?$" });
    expect([v("Abort"), v("warn"), v(""), v("ignore")]).toEqual([true, true, true, false]);
  });

  it("the Kafka cluster runs KRaft with node pools, and its pools (JSON, no shared schema) are sound", async () => {
    const [kafka] = find(infra, "Kafka", "maas-kafka");
    expect(kafka!.metadata.annotations).toMatchObject({
      "strimzi.io/node-pools": "enabled",
      "strimzi.io/kraft": "enabled",
    });
    expect(kafka!.spec.zookeeper).toBeUndefined();
    const pool = z.object({
      apiVersion: z.literal("kafka.strimzi.io/v1beta2"),
      kind: z.literal("KafkaNodePool"),
      metadata: z.object({
        name: z.string().regex(/^[a-z0-9-]+$/),
        namespace: z.literal(kafka!.metadata.namespace!),
        labels: z.object({ "strimzi.io/cluster": z.literal(kafka!.metadata.name) }),
      }),
      spec: z.object({
        replicas: z.number().int().positive(),
        roles: z.array(z.enum(["controller", "broker"])).min(1),
        storage: z.object({
          type: z.literal("jbod"),
          volumes: z
            .array(z.object({ id: z.number().int(), type: z.literal("persistent-claim"), size: z.string() }))
            .min(1),
        }),
      }),
    });
    const list = z
      .object({ apiVersion: z.literal("v1"), kind: z.literal("List"), items: z.array(pool) })
      .parse(JSON.parse(await readFile(path.join(root, "infra/cluster/kafka/node-pools.json"), "utf8")));
    const replicas = (role: string) =>
      list.items
        .filter((p) => p.spec.roles.includes(role as "broker"))
        .reduce((n, p) => n + p.spec.replicas, 0);
    // An odd controller quorum survives one loss; three brokers carry replication factor 3.
    expect(replicas("controller") % 2).toBe(1);
    expect(replicas("controller")).toBeGreaterThanOrEqual(3);
    expect(replicas("broker")).toBeGreaterThanOrEqual(
      Number(kafka!.spec.kafka.config["default.replication.factor"]),
    );
  });

  it("knative/base's Kafka addresses and topics exist in the cluster", () => {
    const [kafka] = find(infra, "Kafka", "maas-kafka");
    const bootstrap = `${kafka!.metadata.name}-kafka-bootstrap.${kafka!.metadata.namespace}.svc:9092`;
    const plain = kafka!.spec.kafka.listeners.find((l: { port: number }) => l.port === 9092);
    expect(plain).toMatchObject({ tls: false, type: "internal" });
    const text = objs(knative)
      .map((o) => JSON.stringify(o))
      .join("\n");
    const addresses = [...text.matchAll(/[a-z0-9-]+-kafka-bootstrap\.[a-z0-9-]+\.svc:\d+/g)].map((m) => m[0]);
    expect(addresses.length).toBeGreaterThan(0);
    expect(new Set(addresses)).toEqual(new Set([bootstrap]));

    const topics = new Set(find(infra, "KafkaTopic").map((t) => t.spec.topicName as string));
    const wanted = [
      ...find(knative, "KafkaSink").map((s) => s.spec.topic as string),
      ...find(knative, "KafkaSource").flatMap((s) => s.spec.topics as string[]),
      ...find(knative, "Broker").map(
        (b) => b.metadata.annotations!["kafka.eventing.knative.dev/external.topic"]!,
      ),
    ];
    expect(wanted).toEqual(expect.arrayContaining(["maas.events", "maas.usage", "maas.dlq"]));
    for (const t of wanted) expect(topics.has(t), t).toBe(true);
    for (const t of find(infra, "KafkaTopic"))
      expect(t.metadata.labels?.["strimzi.io/cluster"]).toBe("maas-kafka");
  });

  it("the secrets and endpoints the Knative Services read come from these manifests", () => {
    const services = find(knative, "Service").filter((s) => s.apiVersion.startsWith("serving.knative.dev"));
    const env = services.flatMap(
      (s) =>
        s.spec.template.spec.containers[0].env as {
          name: string;
          valueFrom?: { secretKeyRef?: { name: string } };
        }[],
    );
    const secret = (name: string) => env.find((e) => e.name === name)?.valueFrom?.secretKeyRef?.name;
    // CloudNativePG writes <cluster>-app (with `uri`) in the cluster's namespace.
    const [pg] = find(infra, "Cluster", "maas-postgres");
    expect(secret("DATABASE_URL")).toBe(`${pg!.metadata.name}-app`);
    expect(pg!.metadata.namespace).toBe("maas");
    expect(pg!.spec.bootstrap.initdb.postInitApplicationSQL.join("\n")).toMatch(/maas_app[\s\S]*maas_system/);
    // Redis reads its password from the same hand-made secret the functions read REDIS_URL from.
    expect(secret("REDIS_URL")).toBe("maas-redis");
    const [redis] = find(infra, "StatefulSet", "maas-redis");
    expect(JSON.stringify(redis!.spec.template.spec.containers[0].env)).toContain('"name":"maas-redis"');
    // S3_ENDPOINT in the maas-infra ConfigMap names the MinIO Service.
    const [cm] = find(knative, "ConfigMap", "maas-infra");
    const [minio] = find(infra, "Service", "minio");
    expect(cm!.data!.S3_ENDPOINT).toBe(
      `http://${minio!.metadata.name}.${minio!.metadata.namespace}.svc:9000`,
    );
  });

  it("every function has a metrics Service the ServiceMonitor selects, on the container's port", () => {
    const functions = find(knative, "Service")
      .filter((s) => s.apiVersion.startsWith("serving.knative.dev"))
      .map((s) => s.metadata.name);
    const [monitor] = find(infra, "ServiceMonitor", "maas-functions");
    const selector = monitor!.spec.selector.matchLabels as Record<string, string>;
    const port = monitor!.spec.endpoints[0].port as string;
    const metricsServices = find(infra, "Service").filter((s) =>
      Object.entries(selector).every(([k, v]) => s.metadata.labels?.[k] === v),
    );
    for (const fn of functions) {
      const svc = metricsServices.find((s) => s.spec.selector["serving.knative.dev/service"] === fn);
      expect(svc, `metrics Service for ${fn}`).toBeDefined();
      const p = svc!.spec.ports.find((x: { name: string }) => x.name === port);
      expect(p?.targetPort, fn).toBe(8080);
    }
    const [kafkaMonitor] = find(infra, "ServiceMonitor", "maas-kafka-exporter");
    const exporterSvc = find(infra, "Service").find((s) =>
      Object.entries(kafkaMonitor!.spec.selector.matchLabels as Record<string, string>).every(
        ([k, v]) => s.metadata.labels?.[k] === v,
      ),
    );
    expect(exporterSvc?.spec.selector["strimzi.io/name"]).toBe("maas-kafka-kafka-exporter");
  });

  it("every alert has a severity, a summary and a runbook section in docs/operations.md", async () => {
    const rules = await loadRules(path.join(root, "infra", "cluster"));
    const alerts = rules.filter((r) => r.alert);
    const doc = await readFile(path.join(root, "docs", "operations.md"), "utf8");
    // GitHub's heading anchors: lower-cased, spaces to dashes, punctuation dropped.
    const anchors = new Set(
      [...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, "")
          .replace(/ /g, "-"),
      ),
    );
    const missing: string[] = [];
    for (const a of alerts) {
      expect(["page", "ticket", "warning"], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      const anchor = a.annotations?.runbook_url?.split("#")[1];
      expect(anchor, a.alert).toBe(a.alert!.toLowerCase());
      if (!anchors.has(anchor!)) missing.push(a.alert!);
    }
    expect(missing).toEqual([]);
    const names = alerts.map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
  });
});
