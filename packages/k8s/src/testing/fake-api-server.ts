import type { KubeConfig } from "@kubernetes/client-node";
import { type ApiServer, type Controller, startApiServer } from "../api-server/api-server.js";
import type { ObjectStore } from "../api-server/object-store.js";
import type { KubeObject, ObjectRef } from "../kube-applier.js";
import { kubeConfigFor } from "../kube-config.js";
import { createManifestValidator, type ManifestValidator } from "../validate-manifest.js";

/** On a Knative Service: `"<Reason>: <message>"` makes the simulated controller fail it. */
export const FAKE_FAIL_ANNOTATION = "fake.maas.dev/fail";

export interface FakeApiServerOptions {
  validator?: ManifestValidator;
  /** How long the simulated Knative takes to make a Service Ready. Default 50 ms. */
  readyDelayMs?: number;
  /** Knative's domain for Service URLs. */
  domain?: string;
}

export interface FakeApiServer extends ApiServer {
  kubeConfig: KubeConfig;
}

function knativeStatus(object: KubeObject, ready: "True" | "False" | "Unknown", extra: object = {}) {
  return {
    observedGeneration: object.metadata?.generation,
    conditions: [
      { type: "ConfigurationsReady", status: ready, lastTransitionTime: new Date().toISOString() },
      { type: "Ready", status: ready, lastTransitionTime: new Date().toISOString(), ...extra },
      { type: "RoutesReady", status: ready, lastTransitionTime: new Date().toISOString() },
    ],
  };
}

/**
 * A simulated Knative Serving controller: a Service goes Ready=Unknown at once, then after the delay
 * Ready=True with `http://<name>.<ns>.<domain>`, or Ready=False when its image contains "fail" or it
 * carries {@link FAKE_FAIL_ANNOTATION} (reason RevisionFailed / the annotation's reason).
 */
export function simulatedKnative(options: { readyDelayMs?: number; domain?: string } = {}): Controller {
  const timers = new Set<NodeJS.Timeout>();
  const delay = options.readyDelayMs ?? 50;
  const domain = options.domain ?? "example.com";
  return {
    onApplied(object, change, store: ObjectStore) {
      if (object.kind !== "Service" || object.apiVersion !== "serving.knative.dev/v1" || !change.specChanged)
        return;
      const ref: ObjectRef = {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata!.name!,
        namespace: object.metadata!.namespace!,
      };
      store.setStatus(ref, knativeStatus(object, "Unknown", { reason: "Deploying" }));
      const timer = setTimeout(() => {
        timers.delete(timer);
        const current = store.get(ref);
        if (!current || current.metadata?.generation !== object.metadata?.generation) return;
        const spec = current.spec as { template?: { spec?: { containers?: { image?: string }[] } } };
        const image = spec.template?.spec?.containers?.[0]?.image ?? "";
        const failure = current.metadata?.annotations?.[FAKE_FAIL_ANNOTATION];
        if (failure !== undefined || image.includes("fail")) {
          const [reason, ...message] = (failure ?? "RevisionFailed: container exited with code 1").split(":");
          store.setStatus(
            ref,
            knativeStatus(current, "False", { reason: reason!.trim(), message: message.join(":").trim() }),
          );
          return;
        }
        store.setStatus(ref, {
          ...knativeStatus(current, "True"),
          url: `http://${ref.name}.${ref.namespace}.${domain}`,
          address: { url: `http://${ref.name}.${ref.namespace}.svc.cluster.local` },
          latestReadyRevisionName: `${ref.name}-${String(current.metadata?.generation).padStart(5, "0")}`,
        });
      }, delay);
      timers.add(timer);
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

/**
 * The fake API server for tests: real HTTP on 127.0.0.1, every apply validated against the real
 * schemas, a simulated Knative controller; point the real client at `kubeConfig`.
 *
 * @example
 * const server = await startFakeApiServer();
 * const applier = new ClientNodeApplier({ kubeConfig: server.kubeConfig });
 * await server.close();
 */
export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const server = await startApiServer({
    validator: options.validator ?? createManifestValidator(),
    controller: simulatedKnative(options),
  });
  return { ...server, kubeConfig: kubeConfigFor(server.url) };
}
