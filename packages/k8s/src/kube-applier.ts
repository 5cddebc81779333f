/** The least a Kubernetes object has. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
    resourceVersion?: string;
    uid?: string;
  };
  spec?: unknown;
  status?: unknown;
}

/** Names one object. `namespace` is absent for cluster-scoped kinds (Namespace). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export type ReadyResult =
  | { status: "ready"; url: string | undefined; object: KubeObject }
  | { status: "failed"; reason: string; message: string; object: KubeObject }
  | { status: "timeout"; message: string }
  | { status: "gone"; message: string };

/**
 * What the deployer needs from a Kubernetes API server: server-side apply (field manager
 * `maas-deployer`, force), read, delete, and waiting for a Knative-style `Ready` condition. One real
 * implementation over `@kubernetes/client-node`; the fake API server and the local runner serve the
 * same HTTP API, so the same implementation talks to all three.
 */
export interface KubeApplier {
  /** Server-side apply; resolves to the object as stored. Idempotent. */
  apply<T extends KubeObject>(object: T): Promise<KubeObject>;
  /** The stored object, or undefined when there is none. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** True when something was deleted, false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  /**
   * Resolves when the object's `Ready` condition is True (for its current generation) or False, or
   * after `timeoutMs`. Never rejects for a failed rollout; rejects only when the API is unusable.
   */
  watchReady(ref: ObjectRef, timeoutMs: number): Promise<ReadyResult>;
}

/** A call to the API server failed. `retriable`: the server was unreachable, overloaded or 5xx. */
export class KubeApiError extends Error {
  readonly status: number | undefined;
  readonly reason: string;
  readonly retriable: boolean;

  constructor(
    message: string,
    options: { status?: number; reason: string; retriable: boolean; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = "KubeApiError";
    this.status = options.status;
    this.reason = options.reason;
    this.retriable = options.retriable;
  }
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/**
 * Reads a Knative-style status: Ready True for the current generation → ready, Ready False →
 * failed, anything else (Unknown, stale observedGeneration) → undefined (still rolling out).
 */
export function readiness(object: KubeObject): ReadyResult | undefined {
  const status = (object.status ?? {}) as {
    conditions?: Condition[];
    observedGeneration?: number;
    url?: string;
  };
  const generation = object.metadata?.generation;
  if (generation !== undefined && (status.observedGeneration ?? 0) < generation) return undefined;
  const ready = status.conditions?.find((c) => c.type === "Ready");
  if (ready?.status === "True") return { status: "ready", url: status.url, object };
  if (ready?.status === "False") {
    return {
      status: "failed",
      reason: ready.reason ?? "NotReady",
      message: ready.message ?? "the Ready condition is False",
      object,
    };
  }
  return undefined;
}

/** The resource (plural) name of the kinds the platform uses; discovery answers the same. */
export const RESOURCES: Readonly<Record<string, { plural: string; namespaced: boolean }>> = {
  Namespace: { plural: "namespaces", namespaced: false },
  ResourceQuota: { plural: "resourcequotas", namespaced: true },
  LimitRange: { plural: "limitranges", namespaced: true },
  NetworkPolicy: { plural: "networkpolicies", namespaced: true },
  Service: { plural: "services", namespaced: true },
  ConfigMap: { plural: "configmaps", namespaced: true },
  Secret: { plural: "secrets", namespaced: true },
};

/** `/apis/serving.knative.dev/v1/namespaces/ns/services` (the collection) for a ref. */
export function collectionPath(ref: Pick<ObjectRef, "apiVersion" | "kind" | "namespace">): string {
  const resource = RESOURCES[ref.kind];
  if (!resource) throw new Error(`unknown kind ${ref.kind}`);
  const root = ref.apiVersion.includes("/") ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const ns = resource.namespaced ? `/namespaces/${ref.namespace ?? "default"}` : "";
  return `${root}${ns}/${resource.plural}`;
}

/** The ref of an object (metadata.name required). */
export function refOf(object: KubeObject): ObjectRef {
  const name = object.metadata?.name;
  if (!name) throw new Error(`${object.kind} without metadata.name`);
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name,
    ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
  };
}
