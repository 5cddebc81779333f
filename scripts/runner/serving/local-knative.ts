import path from "node:path";
import type { Controller, KubeObject, ObjectRef, ObjectStore } from "@maas/k8s";
import { z } from "zod";
import { type ColdStart, ScaledService, type ScalePolicy } from "./scaled-service.js";

const serviceSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string().default("default"),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.looseObject({
    template: z.looseObject({
      metadata: z.looseObject({ annotations: z.record(z.string(), z.string()).optional() }).optional(),
      spec: z.looseObject({
        containerConcurrency: z.int().optional(),
        containers: z
          .array(
            z.looseObject({
              image: z.string(),
              env: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })).optional(),
              readinessProbe: z
                .looseObject({ httpGet: z.looseObject({ path: z.string().optional() }).optional() })
                .optional(),
            }),
          )
          .min(1),
      }),
    }),
  }),
});

/** Go durations as Knative writes them: "1m", "30s", "1m30s", "500ms", "0s". */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  let rest = text;
  const re = /^(\d+(?:\.\d+)?)(ms|h|m|s)/;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (!m) throw new Error(`not a duration: ${text}`);
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

export interface LocalKnativeOptions {
  root: string;
  host: string;
  freePort: () => Promise<number>;
  /** Environment every instance gets (the runner's switches), under the container's own env. */
  baseEnv: NodeJS.ProcessEnv;
  /** Extra env over the container's (tests: a short warm-up, a fixture's knobs). */
  overrideEnv?: Record<string, string>;
  /** Knative's stable window; 60 s there, short in tests. */
  stableWindowMs?: number;
  maxQueue?: number;
  queueTimeoutMs?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  tickMs?: number;
  onLine?: (name: string, line: string) => void;
}

const A = "autoscaling.knative.dev/";

/**
 * The local runner's Knative Serving: a controller for the API server that, for each applied
 * Service, runs a {@link ScaledService} (activator + instances as child processes) and reports
 * Ready with the activator's URL, or Ready=False (RevisionFailed) when no instance could start.
 * The script an instance runs: the Service's `local.maas.dev/entry` annotation, else the inference
 * function for inference Services, else `functions/<name>/src/main.ts`.
 *
 * @example
 * const knative = new LocalKnative({ root, host: "127.0.0.1", freePort, baseEnv: process.env });
 * const api = await startApiServer({ validator, controller: knative });
 */
export class LocalKnative implements Controller {
  readonly services = new Map<string, ScaledService>();
  readonly coldStarts: ColdStart[] = [];
  #opts: LocalKnativeOptions;
  #pending = new Map<string, Promise<void>>();

  constructor(options: LocalKnativeOptions) {
    this.#opts = options;
  }

  onApplied(object: KubeObject, change: { specChanged: boolean }, store: ObjectStore): void {
    if (object.kind !== "Service" || object.apiVersion !== "serving.knative.dev/v1" || !change.specChanged)
      return;
    const key = `${object.metadata?.namespace}/${object.metadata?.name}`;
    const previous = this.#pending.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.#reconcile(key, object, store))
      .catch((err: unknown) => {
        this.#opts.onLine?.("runner", `knative ${key}: ${String(err)}`);
      });
    this.#pending.set(key, next);
  }

  onDeleted(object: KubeObject): void {
    const key = `${object.metadata?.namespace}/${object.metadata?.name}`;
    const svc = this.services.get(key);
    this.services.delete(key);
    void svc?.stop();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#pending.values()]);
    await Promise.all([...this.services.values()].map((s) => s.stop()));
    this.services.clear();
  }

  /** Prometheus text: cold starts by service and phase, instances per service. */
  metrics(): string {
    const lines = [
      "# HELP runner_cold_start_seconds Last cold start per service: spawn_to_ready and the function's own phases",
      "# TYPE runner_cold_start_seconds gauge",
    ];
    const last = new Map<string, ColdStart>();
    for (const c of this.coldStarts) last.set(c.service, c);
    for (const [service, c] of last) {
      lines.push(
        `runner_cold_start_seconds{service="${service}",phase="spawn_to_ready"} ${c.spawnToReadyMs / 1000}`,
      );
      for (const [phase, ms] of Object.entries(c.phases)) {
        lines.push(`runner_cold_start_seconds{service="${service}",phase="${phase}"} ${ms / 1000}`);
      }
    }
    lines.push(
      "# HELP runner_cold_starts_total Instances started per service",
      "# TYPE runner_cold_starts_total counter",
    );
    const counts = new Map<string, number>();
    for (const c of this.coldStarts) counts.set(c.service, (counts.get(c.service) ?? 0) + 1);
    for (const [service, n] of counts) lines.push(`runner_cold_starts_total{service="${service}"} ${n}`);
    lines.push("# HELP runner_instances Ready instances per service", "# TYPE runner_instances gauge");
    for (const [key, svc] of this.services)
      lines.push(`runner_instances{service="${key}"} ${svc.instances.length}`);
    return `${lines.join("\n")}\n`;
  }

  async #reconcile(key: string, object: KubeObject, store: ObjectStore): Promise<void> {
    const o = this.#opts;
    const s = serviceSchema.parse(object);
    const ref: ObjectRef = {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      name: s.metadata.name,
      namespace: s.metadata.namespace,
    };
    const generation = object.metadata?.generation;
    const condition = (status: string, extra: object = {}) => ({
      observedGeneration: generation,
      conditions: [{ type: "Ready", status, lastTransitionTime: new Date().toISOString(), ...extra }],
    });
    store.setStatus(ref, condition("Unknown", { reason: "Deploying" }));

    const annotations = s.spec.template.metadata?.annotations ?? {};
    const container = s.spec.template.spec.containers[0]!;
    const num = (name: string, def: number) =>
      annotations[A + name] !== undefined ? Number(annotations[A + name]) : def;
    const maxScale = num("max-scale", 0) || 10;
    const policy: ScalePolicy = {
      minScale: num("min-scale", 0),
      maxScale,
      initialScale: num("initial-scale", 1),
      target: num("target", s.spec.template.spec.containerConcurrency || 100),
      retentionMs: parseDuration(annotations[`${A}scale-to-zero-pod-retention-period`] ?? "0s"),
      stableWindowMs: o.stableWindowMs ?? 60_000,
    };
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    const entry =
      s.metadata.annotations?.["local.maas.dev/entry"] ??
      (s.metadata.labels?.["app.kubernetes.io/component"] === "inference"
        ? "functions/inference/src/main.ts"
        : `functions/${s.metadata.name}/src/main.ts`);

    const old = this.services.get(key);
    const port = old ? Number(new URL(old.url).port) : 0;
    if (old) await old.stop();
    const svc = new ScaledService({
      name: key,
      host: o.host,
      port,
      policy,
      limits: { maxQueue: o.maxQueue ?? 100, queueTimeoutMs: o.queueTimeoutMs ?? 60_000 },
      instance: {
        command: process.execPath,
        args: ["--import", "tsx", path.resolve(o.root, entry)],
        cwd: o.root,
        env: { ...o.baseEnv, ...env, ...o.overrideEnv, HOST: o.host, FUNCTION_NAME: s.metadata.name },
        readinessPath: container.readinessProbe?.httpGet?.path ?? "/readyz",
        startTimeoutMs: o.startTimeoutMs ?? 120_000,
        stopTimeoutMs: o.stopTimeoutMs ?? 5000,
      },
      freePort: o.freePort,
      ...(o.tickMs ? { tickMs: o.tickMs } : {}),
      ...(o.onLine ? { onLine: o.onLine } : {}),
      onColdStart: (c) => {
        this.coldStarts.push(c);
        o.onLine?.(
          "runner",
          `cold start ${c.service}#${c.instance}: spawn→ready ${c.spawnToReadyMs.toFixed(0)} ms ${JSON.stringify(c.phases)}`,
        );
      },
      onScale: (name, n, reason) => o.onLine?.("runner", `${name}: ${n} instance(s) (${reason})`),
    });
    this.services.set(key, svc);
    try {
      await svc.start();
      store.setStatus(ref, {
        ...condition("True"),
        url: svc.url,
        address: { url: svc.url },
      });
    } catch (err) {
      store.setStatus(
        ref,
        condition("False", {
          reason: "RevisionFailed",
          message: svc.lastFailure ?? (err instanceof Error ? err.message : String(err)),
        }),
      );
    }
  }
}
