import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parse as parseYaml } from "yaml";
import { type KubeObject, type ObjectRef, RESOURCES } from "../kube-applier.js";
import type { ManifestValidator } from "../validate-manifest.js";
import { ObjectStore } from "./object-store.js";

/** Reacts to stored objects as a Kubernetes controller would (sets status, runs pods …). */
export interface Controller {
  onApplied?(
    object: KubeObject,
    change: { created: boolean; specChanged: boolean },
    store: ObjectStore,
  ): void;
  onDeleted?(object: KubeObject, store: ObjectStore): void;
  close?(): Promise<void>;
}

export interface ApiServerOptions {
  /** Every apply body is validated with this; problems answer 422 like the real server. */
  validator: ManifestValidator;
  controller?: Controller;
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** Reject namespaced objects whose Namespace does not exist (as the real server does). Default true. */
  requireNamespaces?: boolean;
  /** Serves paths outside the Kubernetes API (the local runner's `/metrics`); true = handled. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface ApiServer {
  url: string;
  store: ObjectStore;
  /** Every request seen: method, path, content type (tests assert on what the client sent). */
  requests: { method: string; path: string; contentType: string | undefined }[];
  close(): Promise<void>;
}

/** Group/version → kinds served there (discovery answers with these). */
const GROUPS: Record<string, string[]> = {
  v1: ["Namespace", "ResourceQuota", "LimitRange", "ConfigMap", "Secret"],
  "networking.k8s.io/v1": ["NetworkPolicy"],
  "serving.knative.dev/v1": ["Service"],
};

function status(code: number, reason: string, message: string, details?: object) {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: code < 300 ? "Success" : "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

interface Route {
  groupVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string | undefined;
}

/** `/api/v1/namespaces/ns/resourcequotas/x`, `/apis/g/v/namespaces/ns/services`, `/api/v1/namespaces/x`. */
function parsePath(pathname: string): Route | "discovery" | undefined {
  const parts = pathname.split("/").filter(Boolean);
  let groupVersion: string;
  let rest: string[];
  if (parts[0] === "api" && parts[1]) {
    groupVersion = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts[1] && parts[2]) {
    groupVersion = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else return undefined;
  if (!GROUPS[groupVersion]) return undefined;
  if (rest.length === 0) return "discovery";
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  const plural = rest[0]!;
  const kind = GROUPS[groupVersion]!.find((k) => RESOURCES[k]?.plural === plural);
  if (!kind || rest.length > 2) return undefined;
  if (RESOURCES[kind]!.namespaced !== (namespace !== undefined) && !(plural === "namespaces")) {
    // A namespaced kind listed across namespaces is not something the deployer does.
    if (namespace === undefined && rest.length === 2) return undefined;
  }
  return { groupVersion, kind, namespace, name: rest[1] ? decodeURIComponent(rest[1]) : undefined };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A Kubernetes API server in miniature, on real HTTP: discovery, server-side apply (PATCH with
 * `application/apply-patch+yaml`, fieldManager required), GET, DELETE and watch (newline-delimited
 * JSON) for the kinds the platform renders. Every apply body is validated against the real schemas
 * (CRDs, kubernetes-models) and rejected with a 422 Status like the real server's. What happens after
 * an apply is the {@link Controller}'s business: a simulated Knative in tests, the local runner's
 * process manager at `pnpm start`.
 *
 * @example
 * const server = await startApiServer({ validator: createManifestValidator() });
 * const applier = new ClientNodeApplier({ kubeConfig: kubeConfigFor(server.url) });
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const store = new ObjectStore();
  const requests: ApiServer["requests"] = [];
  const watches = new Set<ServerResponse>();
  const requireNamespaces = options.requireNamespaces ?? true;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    requests.push({ method, path: url.pathname, contentType: req.headers["content-type"] });
    const route = parsePath(url.pathname);
    if (route === undefined && options.fallback?.(req, res)) return;
    if (route === undefined)
      return send(res, 404, status(404, "NotFound", `the server could not find ${url.pathname}`));
    if (route === "discovery") {
      const gv = url.pathname.startsWith("/api/") ? url.pathname.slice(5) : url.pathname.slice(6);
      return send(res, 200, {
        kind: "APIResourceList",
        apiVersion: "v1",
        groupVersion: gv,
        resources: GROUPS[gv]!.map((kind) => ({
          name: RESOURCES[kind]!.plural,
          singularName: kind.toLowerCase(),
          namespaced: RESOURCES[kind]!.namespaced,
          kind,
          verbs: ["get", "list", "watch", "patch", "delete"],
        })),
      });
    }
    const { groupVersion, kind, namespace } = route;
    const name = route.name;
    const ref = (n: string): ObjectRef => ({
      apiVersion: groupVersion,
      kind,
      name: n,
      ...(namespace ? { namespace } : {}),
    });
    const what = `${RESOURCES[kind]!.plural}${groupVersion.includes("/") ? `.${groupVersion.split("/")[0]}` : ""}`;

    if (method === "GET" && url.searchParams.get("watch") === "true") {
      const selector = url.searchParams.get("fieldSelector") ?? "";
      const wanted = /^metadata\.name=(.+)$/.exec(selector)?.[1];
      const rv = url.searchParams.get("resourceVersion");
      const matches = (o: KubeObject) =>
        o.kind === kind &&
        o.apiVersion === groupVersion &&
        (namespace === undefined || o.metadata?.namespace === namespace) &&
        (wanted === undefined || o.metadata?.name === wanted);
      res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
      watches.add(res);
      const write = (type: string, object: KubeObject) => res.write(`${JSON.stringify({ type, object })}\n`);
      if (!rv) for (const o of store.list(matches)) write("ADDED", o);
      const stop = store.subscribe(rv ? Number(rv) : undefined, (e) => {
        if (matches(e.object)) write(e.type, e.object);
      });
      const end = () => {
        stop();
        watches.delete(res);
      };
      res.once("close", end);
      return;
    }
    if (method === "GET") {
      if (name === undefined) {
        const items = store.list(
          (o) => o.kind === kind && (namespace === undefined || o.metadata?.namespace === namespace),
        );
        return send(res, 200, {
          kind: `${kind}List`,
          apiVersion: groupVersion,
          metadata: { resourceVersion: String(store.resourceVersion) },
          items,
        });
      }
      const object = store.get(ref(name));
      if (!object)
        return send(
          res,
          404,
          status(404, "NotFound", `${what} "${name}" not found`, { name, kind: RESOURCES[kind]!.plural }),
        );
      return send(res, 200, object);
    }
    if (method === "DELETE" && name !== undefined) {
      const deleted = store.delete(ref(name));
      if (!deleted)
        return send(
          res,
          404,
          status(404, "NotFound", `${what} "${name}" not found`, { name, kind: RESOURCES[kind]!.plural }),
        );
      options.controller?.onDeleted?.(deleted, store);
      return send(
        res,
        200,
        status(200, "", "", { name, kind: RESOURCES[kind]!.plural, uid: deleted.metadata?.uid }),
      );
    }
    if (method === "PATCH" && name !== undefined) {
      const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
      if (contentType !== "application/apply-patch+yaml") {
        return send(
          res,
          415,
          status(415, "UnsupportedMediaType", `the fake serves apply patches only, not ${contentType}`),
        );
      }
      if (!url.searchParams.get("fieldManager")) {
        return send(
          res,
          400,
          status(
            400,
            "BadRequest",
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
          ),
        );
      }
      let body: KubeObject;
      try {
        body = parseYaml(await readBody(req)) as KubeObject;
      } catch (err) {
        return send(res, 400, status(400, "BadRequest", `error decoding YAML: ${String(err)}`));
      }
      if (body?.apiVersion !== groupVersion || body.kind !== kind) {
        return send(
          res,
          400,
          status(
            400,
            "BadRequest",
            `the body's ${String(body?.apiVersion)} ${String(body?.kind)} does not match ${groupVersion} ${kind}`,
          ),
        );
      }
      if (body.metadata?.name !== name) {
        return send(
          res,
          400,
          status(400, "BadRequest", "the name of the object does not match the name on the URL"),
        );
      }
      if (body.metadata?.namespace !== undefined && body.metadata.namespace !== namespace) {
        return send(
          res,
          400,
          status(
            400,
            "BadRequest",
            "the namespace of the object does not match the namespace on the request",
          ),
        );
      }
      const problems = await options.validator.validate(body as unknown as Record<string, unknown>);
      if (problems.length > 0) {
        return send(
          res,
          422,
          status(
            422,
            "Invalid",
            `${kind}.${groupVersion.split("/")[0]} "${name}" is invalid: ${problems.join("; ")}`,
            {
              name,
              group: groupVersion.includes("/") ? groupVersion.split("/")[0] : "",
              kind: RESOURCES[kind]!.plural,
              causes: problems.map((message) => ({ reason: "FieldValueInvalid", message })),
            },
          ),
        );
      }
      if (
        requireNamespaces &&
        namespace !== undefined &&
        !store.get({ apiVersion: "v1", kind: "Namespace", name: namespace })
      ) {
        return send(
          res,
          404,
          status(404, "NotFound", `namespaces "${namespace}" not found`, {
            name: namespace,
            kind: "namespaces",
          }),
        );
      }
      const result = store.apply(ref(name), body);
      options.controller?.onApplied?.(result.object, result, store);
      return send(res, result.created ? 201 : 200, store.get(ref(name)) ?? result.object);
    }
    return send(res, 405, status(405, "MethodNotAllowed", `${method} is not supported here`));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, status(500, "InternalError", String(err)));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${address.port}`,
    store,
    requests,
    close: async () => {
      for (const w of watches) w.end();
      await options.controller?.close?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
