// What actionlint cannot know about release.yml and deploy.yml (tests/ci/actionlint.test.ts lints
// them): every action pinned to a commit, least-privilege permissions, the deploy job unable to run
// for a fork, one deploy per environment without cancellation, and rollback wired to the smoke test.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = path.resolve(import.meta.dirname, "../..");

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  permissions?: Record<string, string>;
  environment?: { name: string } | string;
  strategy?: { matrix: { function: string[]; include?: Record<string, string>[] } };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  jobs: Record<string, Job>;
}

let release: Workflow;
let deploy: Workflow;
let releaseText: string;
let deployText: string;

beforeAll(async () => {
  releaseText = await readFile(path.join(root, ".github/workflows/release.yml"), "utf8");
  deployText = await readFile(path.join(root, ".github/workflows/deploy.yml"), "utf8");
  release = parse(releaseText) as Workflow;
  deploy = parse(deployText) as Workflow;
});

const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);

describe("release and deploy workflows", () => {
  it("pin every action to a full commit SHA", () => {
    for (const w of [release, deploy]) {
      const uses = steps(w)
        .map((s) => s.uses)
        .filter((u): u is string => !!u);
      expect(uses.length).toBeGreaterThan(0);
      for (const u of uses) expect(u, u).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    }
  });

  it("release builds every function (and the CUDA inference variant) with least privilege", async () => {
    const functions = (await readdir(path.join(root, "functions"), { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    const job = release.jobs.image!;
    expect([...job.strategy!.matrix.function].sort()).toEqual(functions);
    expect(job.strategy!.matrix.include).toContainEqual(
      expect.objectContaining({ function: "inference", dockerfile: "docker/inference-cuda.Dockerfile" }),
    );
    expect(release.permissions).toEqual({});
    expect(job.permissions).toEqual({
      contents: "read",
      packages: "write",
      "id-token": "write",
      attestations: "write",
    });
    expect(Object.keys(release.on).sort()).toEqual(["push", "workflow_dispatch"]);
    const build = job.steps.find((s) => s.uses?.startsWith("docker/build-push-action@"))!;
    expect(build.with).toMatchObject({ push: true, provenance: "mode=max" });
    expect(String(build.with!["cache-from"])).toMatch(/^type=gha/);
    expect(String(build.with!["cache-to"])).toMatch(/^type=gha,mode=max/);
    expect(job.steps.some((s) => s.uses?.startsWith("actions/attest-build-provenance@"))).toBe(true);
    const meta = job.steps.find((s) => s.uses?.startsWith("docker/metadata-action@"))!;
    expect(String(meta.with!.tags)).toMatch(/type=sha,format=long[\s\S]*type=semver,pattern=\{\{version\}\}/);
  });

  it("the release tags match what the overlays and deploy.yml expect", async () => {
    const dev = await readFile(path.join(root, "knative/overlays/dev/kustomization.yaml"), "utf8");
    // dev deploys `main` (type=ref,event=branch); deploy.yml sets sha-<commit> (type=sha,format=long).
    expect(dev).toContain("newTag: main");
    expect(releaseText).toContain("type=ref,event=branch");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile/shell syntax, not a JS template
    expect(deployText).toContain('tag="${IMAGE_TAG:-sha-${SOURCE_SHA}}"');
  });

  it("deploy cannot run for a fork or a pull request", () => {
    expect(Object.keys(deploy.on).sort()).toEqual(["workflow_dispatch", "workflow_run"]);
    expect(deployText).not.toMatch(/pull_request/);
    const job = deploy.jobs.deploy!;
    const condition = job.if!.replace(/\s+/g, " ");
    expect(condition).toContain("!github.event.repository.fork");
    expect(condition).toContain("github.event.workflow_run.conclusion == 'success'");
    expect(condition).toContain("github.event.workflow_run.event == 'push'");
    expect(condition).toContain("github.event.workflow_run.head_repository.full_name == github.repository");
    expect(deploy.permissions).toEqual({ contents: "read" });
    expect((deploy.on.workflow_run as { workflows: string[] }).workflows).toEqual([parse(releaseText).name]);
  });

  it("deploys one environment at a time, never cancelling a rollout, and names the environment", () => {
    expect(deploy.concurrency!.group).toMatch(/^deploy-\$\{\{.*inputs\.environment.*\}\}$/);
    expect(deploy.concurrency!["cancel-in-progress"]).toBe(false);
    const env = deploy.jobs.deploy!.environment as { name: string };
    expect(env.name).toContain("inputs.environment");
    const input = (deploy.on.workflow_dispatch as { inputs: { environment: { options: string[] } } }).inputs;
    expect(input.environment.options).toEqual(["dev", "prod"]);
  });

  it("renders, records, applies server-side, waits, smoke-tests, and rolls back on failure", () => {
    const all = deploy.jobs.deploy!.steps;
    const index = (re: RegExp) => all.findIndex((s) => re.test(s.run ?? ""));
    const order = [
      index(/kustomize build/),
      index(/latestReadyRevisionName/),
      index(/kubectl apply --server-side/),
      index(/kubectl wait ksvc -l 'maas.dev\/template!=true'/),
      index(/\/v2\/models\/\$\{SMOKE_MODEL\}\/infer/),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const rollback = all.find((s) => /revisionName/.test(s.run ?? ""))!;
    expect(rollback.if).toBe("failure() && steps.record.outcome == 'success'");
    expect(all.indexOf(rollback)).toBeGreaterThan(order.at(-1)!);
    // Pinned tools: kustomize by module version, kubectl checked against its published sha256.
    expect(deployText).toMatch(/KUSTOMIZE_VERSION: v\d+\.\d+\.\d+/);
    expect(deployText).toMatch(/KUBECTL_VERSION: v\d+\.\d+\.\d+/);
    expect(deployText).toContain("sha256sum --check");
  });
});
