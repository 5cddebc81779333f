import {
  ApiException,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
} from "@kubernetes/client-node";
import {
  collectionPath,
  KubeApiError,
  type KubeApplier,
  type KubeObject,
  type ObjectRef,
  type ReadyResult,
  readiness,
} from "./kube-applier.js";
import { FIELD_MANAGER } from "./labels.js";

export interface ClientNodeApplierOptions {
  kubeConfig: KubeConfig;
  fieldManager?: string;
}

/** Kubernetes `Status` body fields the error mapping reads. */
interface StatusBody {
  reason?: string;
  message?: string;
}

function statusBody(body: unknown): StatusBody {
  if (typeof body === "string") {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body };
    }
  }
  return (body ?? {}) as StatusBody;
}

/** API errors → KubeApiError: 5xx/429/unreachable are retriable, other 4xx are not. */
function toKubeError(err: unknown, what: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const body = statusBody(err.body);
    const status = err.code;
    return new KubeApiError(`${what}: ${status} ${body.message ?? err.message}`, {
      status,
      reason: body.reason ?? "Unknown",
      retriable: status >= 500 || status === 429,
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new KubeApiError(`${what}: API server unreachable: ${message}`, {
    reason: "Unreachable",
    retriable: true,
    cause: err,
  });
}

const asHeader = (ref: ObjectRef) => ({
  apiVersion: ref.apiVersion,
  kind: ref.kind,
  metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
});

/**
 * {@link KubeApplier} over `@kubernetes/client-node`: server-side apply through
 * `KubernetesObjectApi.patch` with `application/apply-patch+yaml` (force, one field manager), reads and
 * deletes through the same generic API, and a Watch on the object for its Ready condition.
 *
 * @example
 * const kc = new KubeConfig(); kc.loadFromDefault();
 * const applier = new ClientNodeApplier({ kubeConfig: kc });
 * await applier.apply(renderInferenceService(dep, { image }));
 */
export class ClientNodeApplier implements KubeApplier {
  readonly #api: KubernetesObjectApi;
  readonly #watch: Watch;
  readonly #fieldManager: string;

  constructor(options: ClientNodeApplierOptions) {
    this.#api = KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.#watch = new Watch(options.kubeConfig);
    this.#fieldManager = options.fieldManager ?? FIELD_MANAGER;
  }

  async apply<T extends KubeObject>(object: T): Promise<KubeObject> {
    // A plain copy: kubernetes-models instances carry methods the serializer need not see.
    const body = JSON.parse(JSON.stringify(object)) as KubernetesObject;
    try {
      return (await this.#api.patch(
        body,
        undefined,
        undefined,
        this.#fieldManager,
        true,
        PatchStrategy.ServerSideApply,
      )) as KubeObject;
    } catch (err) {
      throw toKubeError(
        err,
        `apply ${object.kind} ${object.metadata?.namespace ?? ""}/${object.metadata?.name}`,
      );
    }
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return (await this.#api.read(asHeader(ref))) as KubeObject;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw toKubeError(err, `get ${ref.kind} ${ref.namespace ?? ""}/${ref.name}`);
    }
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    try {
      await this.#api.delete(asHeader(ref), undefined, undefined, undefined, undefined, "Background");
      return true;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return false;
      throw toKubeError(err, `delete ${ref.kind} ${ref.namespace ?? ""}/${ref.name}`);
    }
  }

  async watchReady(ref: ObjectRef, timeoutMs: number): Promise<ReadyResult> {
    const current = await this.get(ref);
    if (!current) return { status: "gone", message: `${ref.kind} ${ref.name} does not exist` };
    const now = readiness(current);
    if (now) return now;
    return new Promise<ReadyResult>((resolve, reject) => {
      let settled = false;
      let controller: AbortController | undefined;
      const finish = (result: ReadyResult | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        controller?.abort();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const timer = setTimeout(
        () =>
          finish({ status: "timeout", message: `${ref.kind} ${ref.name} not Ready within ${timeoutMs} ms` }),
        timeoutMs,
      );
      this.#watch
        .watch(
          collectionPath(ref),
          {
            fieldSelector: `metadata.name=${ref.name}`,
            resourceVersion: current.metadata?.resourceVersion,
            allowWatchBookmarks: true,
          },
          (phase: string, object: KubeObject) => {
            if (phase === "DELETED")
              finish({ status: "gone", message: `${ref.kind} ${ref.name} was deleted` });
            else if (phase === "ADDED" || phase === "MODIFIED") {
              const result = readiness(object);
              if (result) finish(result);
            }
          },
          (err: unknown) => {
            // The server closed the watch (its own timeout) before a verdict: look again.
            if (settled) return;
            if (err && !(err instanceof Error && err.name === "AbortError")) {
              finish(toKubeError(err, `watch ${ref.kind} ${ref.name}`));
              return;
            }
            const remaining = timeoutMs; // the outer timer still bounds the whole wait
            this.watchReady(ref, remaining).then(finish, finish);
          },
        )
        .then(
          (c) => {
            controller = c;
            if (settled) c.abort();
          },
          (err: unknown) => finish(toKubeError(err, `watch ${ref.kind} ${ref.name}`)),
        );
    });
  }
}
