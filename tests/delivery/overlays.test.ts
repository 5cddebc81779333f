// Issue 8: `kustomize build` of each overlay must produce manifests that all validate, and every
// function in functions/ must have a Service in what a cluster would get. kustomize is built once
// with `go install` into the shared cache (a fresh clone on the same machine reuses it).
import { execFile } from "node:child_process";
import { access, constants, mkdir, readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { createManifestValidator } from "@maas/k8s";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);
const KUSTOMIZE_VERSION = "v5.7.1";
const root = resolve(import.meta.dirname, "../..");
const cache = process.env.MAAS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "maas");
const bindir = join(cache, "kustomize", KUSTOMIZE_VERSION);
const kustomize = join(bindir, "kustomize");

type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } };

async function render(overlay: string): Promise<Doc[]> {
  const { stdout } = await run(kustomize, ["build", join(root, "knative/overlays", overlay)], {
    maxBuffer: 32 * 1024 * 1024,
  });
  return parseAllDocuments(stdout).map((d) => d.toJSON() as Doc);
}

describe("rendered overlays", () => {
  beforeAll(async () => {
    const ok = await access(kustomize, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await mkdir(bindir, { recursive: true });
    await run("go", ["install", `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], {
      env: { ...process.env, GOBIN: bindir, GOFLAGS: "-mod=mod" },
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 600_000);

  const functions = readdir(join(root, "functions"));

  for (const overlay of ["dev", "prod"]) {
    it(`${overlay}: every rendered object validates and every function has a Service`, async () => {
      const docs = await render(overlay);
      expect(docs.length).toBeGreaterThan(10);
      const validator = createManifestValidator();
      const problems: string[] = [];
      for (const doc of docs) {
        for (const p of await validator.validate(doc as Record<string, unknown>)) {
          problems.push(`${doc.kind}/${doc.metadata?.name}: ${p}`);
        }
      }
      expect(problems).toEqual([]);
      const services = docs
        .filter((d) => d.kind === "Service" && d.apiVersion === "serving.knative.dev/v1")
        .map((d) => d.metadata?.name);
      expect(services.sort()).toEqual([...(await functions)].sort());
    }, 120_000);
  }

  it("the overlays differ from each other where they say they do (patches applied)", async () => {
    const [dev, prod] = await Promise.all([render("dev"), render("prod")]);
    const minScale = (docs: Doc[], name: string) =>
      (
        docs.find((d) => d.kind === "Service" && d.metadata?.name === name) as unknown as {
          spec: { template: { metadata: { annotations: Record<string, string> } } };
        }
      ).spec.template.metadata.annotations["autoscaling.knative.dev/min-scale"];
    expect(minScale(dev, "gateway")).toBe("0");
    expect(Number(minScale(prod, "gateway"))).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
