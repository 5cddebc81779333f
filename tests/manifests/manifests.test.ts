import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { collectManifests, createManifestValidator, type ManifestDocument } from "@maas/k8s";
import { beforeAll, describe, expect, it } from "vitest";
import { loadKustomization, readYamlDocuments, repoRoot } from "../../scripts/runner/index.js";

// Every YAML object in knative/ and infra/ must validate: custom resources against the CRD schemas in
// ../shared/schemas/crds, core kinds with kubernetes-models. Needs no running service.
const schemaDir = path.resolve(repoRoot, "../shared/schemas/crds");
let docs: ManifestDocument[];

beforeAll(async () => {
  docs = await collectManifests([path.join(repoRoot, "knative"), path.join(repoRoot, "infra")]);
});

interface Ref {
  kind: string;
  name: string;
}
// The fields these checks read; the schemas already validated the full shape.
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    subscriber: { ref: Ref };
    sink: { ref: Ref };
    subject: { name?: string; selector?: { matchLabels?: Record<string, string> } };
    schedule: string;
    data: string;
    template: { metadata: { annotations: Record<string, string> } };
  };
}

function byKind(kind: string): Obj[] {
  return docs.map((d) => d.value as unknown as Obj).filter((d) => d.kind === kind);
}

describe("manifests", () => {
  it("finds the knative manifests", () => {
    expect(docs.length).toBeGreaterThan(15);
  });

  it("every document validates against its schema", async () => {
    expect(existsSync(schemaDir), `schemas expected at ${schemaDir}`).toBe(true);
    const validator = createManifestValidator(schemaDir);
    const problems: string[] = [];
    for (const d of docs) {
      for (const p of await validator.validate(d.value)) {
        problems.push(`${path.relative(repoRoot, d.file)}#${d.index} ${String(d.value.kind)}: ${p}`);
      }
    }
    expect(problems).toEqual([]);
  }, 60_000); // compiling the big CRD schemas takes seconds on a loaded machine

  it("the validator rejects a broken custom resource, a broken core object and an unknown kind", async () => {
    const validator = createManifestValidator(schemaDir);
    const trigger = {
      apiVersion: "eventing.knative.dev/v1",
      kind: "Trigger",
      metadata: { name: "x" },
      spec: { broker: 3 },
    };
    expect(await validator.validate(trigger)).not.toEqual([]);
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { a: 1 } };
    expect(await validator.validate(cm)).not.toEqual([]);
    expect(
      await validator.validate({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "x" } }),
    ).toEqual([expect.stringMatching(/no schema/)]);
    expect(await validator.validate({ apiVersion: "v1", kind: "Gizmo", metadata: { name: "x" } })).toEqual([
      expect.stringMatching(/unknown core kind/),
    ]);
  });

  it("every Trigger, KafkaSource, PingSource and SinkBinding points at an existing Service", () => {
    const services = new Set(
      byKind("Service")
        .filter((s) => s.apiVersion.startsWith("serving.knative.dev/"))
        .map((s) => s.metadata.name),
    );
    const refs = [
      ...byKind("Trigger").map((t) => ["Trigger", t.metadata.name, t.spec.subscriber.ref] as const),
      ...byKind("KafkaSource").map((t) => ["KafkaSource", t.metadata.name, t.spec.sink.ref] as const),
      ...byKind("PingSource").map((t) => ["PingSource", t.metadata.name, t.spec.sink.ref] as const),
    ];
    expect(refs.length).toBeGreaterThan(0);
    for (const [kind, name, ref] of refs) {
      expect(ref?.kind, `${kind} ${name}`).toBe("Service");
      expect(services.has(ref.name), `${kind} ${name} → Service ${ref?.name}`).toBe(true);
    }
    const serviceObjs = byKind("Service");
    for (const b of byKind("SinkBinding")) {
      const subject = b.spec.subject;
      const bound = subject.name
        ? serviceObjs.filter((s) => s.metadata.name === subject.name)
        : serviceObjs.filter((s) =>
            Object.entries(subject.selector?.matchLabels ?? {}).every(
              ([k, v]) => s.metadata.labels?.[k] === v,
            ),
          );
      expect(bound.length, `SinkBinding ${b.metadata.name} binds no Service`).toBeGreaterThan(0);
    }
  });

  it("every function folder has a Knative Service", () => {
    const functionsDir = path.join(repoRoot, "functions");
    const names = existsSync(functionsDir)
      ? readdirSync(functionsDir, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name)
      : [];
    const services = new Set(byKind("Service").map((s) => s.metadata.name));
    expect(names.filter((n) => !services.has(n))).toEqual([]);
  });

  it("the base wires what the platform needs", async () => {
    const { resources } = await loadKustomization(path.join(repoRoot, "knative/base"));
    const kinds = resources.map((r) => `${r.resource.kind}/${r.resource.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining(["Broker/default", "KafkaSink/dlq", "KafkaSource/usage-to-metering"]),
    );
    const minScale = (name: string) =>
      (
        resources.find((r) => r.resource.kind === "Service" && r.resource.metadata.name === name)!
          .resource as unknown as Obj
      ).spec.template.metadata.annotations["autoscaling.knative.dev/min-scale"];
    expect(["gateway", "control", "quota"].map(minScale)).toEqual(["1", "1", "1"]);
    expect(minScale("pipeline")).toBe("0");
    const broker = resources.find((r) => r.resource.kind === "Broker")!.resource;
    expect(broker.metadata.annotations?.["eventing.knative.dev/broker.class"]).toBe("Kafka");
    const pings = byKind("PingSource").map((p) => [p.spec.schedule, JSON.parse(p.spec.data).job]);
    expect(pings).toEqual(
      expect.arrayContaining([
        ["0 1 * * *", "daily-rollup"],
        ["0 2 1 * *", "close-period"],
      ]),
    );
  });

  it("every overlay's resources and the base's resources exist", async () => {
    for (const dir of ["knative/base", "knative/overlays/dev", "knative/overlays/prod"]) {
      const [k] = (await readYamlDocuments(path.join(repoRoot, dir, "kustomization.yaml"))) as {
        resources: string[];
      }[];
      for (const r of k!.resources)
        expect(existsSync(path.join(repoRoot, dir, r)), `${dir}: ${r}`).toBe(true);
    }
  });
});
