import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "@maas/config";
import {
  type ApiServer,
  ClientNodeApplier,
  createManifestValidator,
  kubeConfigFor,
  renderInferenceService,
  startApiServer,
} from "@maas/k8s";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/runner/index.js";
import { LocalKnative } from "../../scripts/runner/serving/local-knative.js";
import { ScaledService, type ScalePolicy } from "../../scripts/runner/serving/scaled-service.js";
import { until } from "./harness.js";

// Scale to zero in the local runner, with a tiny fixture server standing in for inference.
const fixture = "tests/runner/fixtures/scale-server.ts";
const host = "127.0.0.1";
const lines: string[] = [];
const running: ScaledService[] = [];

function service(
  policy: Partial<ScalePolicy>,
  env: Record<string, string> = {},
  limits = { maxQueue: 50, queueTimeoutMs: 20_000 },
) {
  const svc = new ScaledService({
    name: `fixture-${running.length}`,
    host,
    policy: {
      minScale: 0,
      maxScale: 3,
      initialScale: 0,
      target: 1,
      retentionMs: 300,
      stableWindowMs: 200,
      ...policy,
    },
    limits,
    instance: {
      command: process.execPath,
      args: ["--import", "tsx", fixture],
      cwd: repoRoot,
      env: { ...process.env, ...env },
      readinessPath: "/readyz",
      startTimeoutMs: 20_000,
      stopTimeoutMs: 2000,
    },
    freePort,
    tickMs: 50,
    onLine: (n, l) => lines.push(`${n} ${l}`),
  });
  running.push(svc);
  return svc;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe("ScaledService (activator + instances)", () => {
  it("runs nothing until the first request, holds it through the cold start, then forwards", async () => {
    const svc = service({}, { STARTUP_DELAY_MS: "300" });
    await svc.start();
    expect(svc.instances).toEqual([]);
    const t0 = performance.now();
    const res = await fetch(`${svc.url}/work`);
    const elapsed = performance.now() - t0;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { pid: number }).pid).toBe(svc.instances[0]!.pid);
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(svc.coldStarts).toHaveLength(0 + (await until(() => svc.coldStarts.length, "cold start")));
    expect(svc.coldStarts[0]!.spawnToReadyMs).toBeGreaterThanOrEqual(300);
    expect(svc.coldStarts[0]!.phases).toEqual({ warm_up: 12 });
  });

  it("scales back to zero after the stable window plus the retention period of idleness", async () => {
    const svc = service({ retentionMs: 300, stableWindowMs: 200 });
    await svc.start();
    await (await fetch(`${svc.url}/work`)).text();
    expect(svc.instances).toHaveLength(1);
    await sleep(250);
    expect(svc.instances, "still within retention").toHaveLength(1);
    await until(() => svc.instances.length === 0, "scale to zero", 5000);
    // And back from zero.
    expect((await fetch(`${svc.url}/work`)).status).toBe(200);
    expect(svc.instances).toHaveLength(1);
  });

  it("min-scale 1 keeps one instance warm", async () => {
    const svc = service({ minScale: 1, retentionMs: 0, stableWindowMs: 50 });
    await svc.start();
    expect(svc.instances).toHaveLength(1);
    await sleep(500);
    expect(svc.instances).toHaveLength(1);
  });

  it("adds instances up to max-scale when in-flight exceeds target × instances, round-robin", async () => {
    const svc = service({ minScale: 1, maxScale: 3, target: 1, retentionMs: 60_000 });
    await svc.start();
    // Six slow requests at target 1: the activator starts instances up to max-scale.
    const slow = Array.from({ length: 6 }, () => fetch(`${svc.url}/work?ms=1500`).then((r) => r.json()));
    await until(() => svc.instances.length === 3, "three instances", 30_000);
    await Promise.all(slow);
    // Round-robin: six concurrent requests land on all three.
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        fetch(`${svc.url}/work?ms=100`).then((r) => r.json() as Promise<{ pid: number }>),
      ),
    );
    const pids = new Set(answers.map((a) => a.pid));
    expect(svc.instances).toHaveLength(3);
    expect(pids.size).toBe(3);
  });

  it("a full activator queue answers 503 at once; a cold start that never ends times out with 503", async () => {
    const svc = service({}, { STARTUP_DELAY_MS: "60000" }, { maxQueue: 2, queueTimeoutMs: 600 });
    await svc.start();
    const t0 = performance.now();
    const all = await Promise.all(
      Array.from({ length: 4 }, () => fetch(`${svc.url}/work`).then((r) => r.status)),
    );
    expect(all.filter((s) => s === 503)).toHaveLength(4);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("an instance that cannot start fails held requests fast", async () => {
    const svc = service({}, { FAIL_AT_START: "1" });
    await svc.start();
    const res = await fetch(`${svc.url}/work`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /could not start|exited/,
    );
  });
});

describe("the local Knative API server (the deployer's target in local mode)", () => {
  let api: ApiServer;
  let knative: LocalKnative;
  beforeAll(async () => {
    knative = new LocalKnative({
      root: repoRoot,
      host,
      freePort,
      baseEnv: process.env,
      stableWindowMs: 100,
      tickMs: 50,
      onLine: (n, l) => lines.push(`${n} ${l}`),
    });
    api = await startApiServer({
      validator: createManifestValidator(),
      controller: knative,
      requireNamespaces: false,
      fallback: (req, res) => {
        if (req.url !== "/metrics") return false;
        res.end(knative.metrics());
        return true;
      },
    });
  });
  afterAll(async () => {
    await api.close();
    // Stops every instance the local Knative still runs, so no fixture process outlives the suite.
    await knative.close();
  });

  it("applies a rendered Service, reports Ready with the activator URL, scales to zero, wakes, deletes", async () => {
    const applier = new ClientNodeApplier({ kubeConfig: kubeConfigFor(api.url) });
    const svc = renderInferenceService(
      {
        id: "dep_local1",
        tenantId: "tnt_local1",
        tenantSlug: "local",
        modelId: "mdl_1",
        modelName: "fixture",
        versionId: "mver_1",
        version: 1,
        name: "fixture",
        minScale: 0,
        maxScale: 2,
        maxBatchSize: 1,
        modelUri: "file:///nowhere.onnx",
      },
      { image: "local", scaleToZeroRetention: "300ms" },
    );
    svc.metadata!.annotations!["local.maas.dev/entry"] = fixture;
    await applier.apply(svc);
    const ref = {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      namespace: "tenant-local",
      name: "fixture",
    };
    const ready = await applier.watchReady(ref, 20_000);
    expect(ready.status).toBe("ready");
    const url = ready.status === "ready" ? ready.url! : "";
    const scaled = knative.services.get("tenant-local/fixture")!;
    // initial-scale 1 proved it starts; idle, it goes to zero.
    await until(() => scaled.instances.length === 0, "scale to zero", 5000);
    const res = await fetch(`${url}/v2/models/fixture`);
    expect(await res.json()).toMatchObject({ env: "fixture" });
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(
      /runner_cold_start_seconds\{service="tenant-local\/fixture",phase="spawn_to_ready"\} [0-9.]+/,
    );
    expect(metrics).toMatch(/runner_cold_starts_total\{service="tenant-local\/fixture"\} 2/);
    expect(await applier.delete(ref)).toBe(true);
    expect(knative.services.has("tenant-local/fixture")).toBe(false);
    // The activator stops listening: its URL refuses connections.
    let refused = false;
    for (let i = 0; i < 50 && !refused; i++) {
      refused = await fetch(`${url}/work`).then(
        () => false,
        () => true,
      );
      if (!refused) await sleep(50);
    }
    expect(refused).toBe(true);
  });

  it("a Service whose instance cannot start is Ready=False (RevisionFailed)", async () => {
    const applier = new ClientNodeApplier({ kubeConfig: kubeConfigFor(api.url) });
    const svc = renderInferenceService(
      {
        id: "dep_local2",
        tenantId: "tnt_local1",
        tenantSlug: "local",
        modelId: "mdl_1",
        modelName: "broken",
        versionId: "mver_1",
        version: 1,
        name: "broken",
        maxBatchSize: 1,
        modelUri: "file:///nowhere.onnx",
      },
      { image: "local", env: { FAIL_AT_START: "1" } },
    );
    svc.metadata!.annotations!["local.maas.dev/entry"] = fixture;
    await applier.apply(svc);
    const result = await applier.watchReady(
      { apiVersion: "serving.knative.dev/v1", kind: "Service", namespace: "tenant-local", name: "broken" },
      20_000,
    );
    expect(result).toMatchObject({ status: "failed", reason: "RevisionFailed" });
  });
});
