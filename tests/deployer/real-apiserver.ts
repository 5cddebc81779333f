import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { freePort } from "@maas/config";
import { defaultSchemaDir } from "@maas/k8s";

/** Where scripts/k8s/build-apiserver.sh leaves the binaries built from the Go module proxy (scripts/test.sh runs it). */
const kubeCache = path.join(
  process.env.MAAS_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"), "maas"),
  "kube",
);
export const kubeApiserverBin = process.env.KUBE_APISERVER_BIN ?? path.join(kubeCache, "kube-apiserver");
export const etcdBin = process.env.ETCD_BIN ?? path.join(kubeCache, "etcd");
export const haveRealApiServer = existsSync(kubeApiserverBin) && existsSync(etcdBin);

export interface RealApiServer {
  url: string;
  token: string;
  kubeConfig: KubeConfig;
  stop(): Promise<void>;
}

/**
 * etcd + kube-apiserver as child processes (AlwaysAllow, a static token, self-signed serving cert).
 * No controllers run: what Knative's controller would do, the test does itself.
 */
export async function startRealApiServer(): Promise<RealApiServer> {
  const dir = await mkdtemp(path.join(tmpdir(), "maas-kube-"));
  const token = randomBytes(16).toString("hex");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await writeFile(path.join(dir, "sa.key"), privateKey.export({ type: "pkcs1", format: "pem" }));
  await writeFile(path.join(dir, "tokens.csv"), `${token},admin,admin,"system:masters"\n`);
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  const run = (bin: string, args: string[]) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d: Buffer) => logs.push(d.toString()));
    child.stderr!.on("data", (d: Buffer) => logs.push(d.toString()));
    children.push(child);
  };
  run(etcdBin, [
    `--data-dir=${path.join(dir, "etcd")}`,
    `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
  ]);
  run(kubeApiserverBin, [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${apiPort}`,
    `--cert-dir=${path.join(dir, "certs")}`,
    `--token-auth-file=${path.join(dir, "tokens.csv")}`,
    "--authorization-mode=AlwaysAllow",
    `--service-account-issuer=https://kubernetes.default.svc`,
    `--service-account-key-file=${path.join(dir, "sa.key")}`,
    `--service-account-signing-key-file=${path.join(dir, "sa.key")}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--enable-priority-and-fairness=false",
  ]);
  const url = `https://127.0.0.1:${apiPort}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "real", server: url, skipTLSVerify: true }],
    users: [{ name: "admin", token }],
    contexts: [{ name: "real", cluster: "real", user: "admin" }],
    currentContext: "real",
  });
  const stop = async () => {
    for (const c of children.reverse()) c.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  // Node's fetch cannot skip TLS verification per request; readiness is polled with curl-free https.
  const https = await import("node:https");
  const ready = () =>
    new Promise<boolean>((resolve) => {
      const req = https.get(
        `${url}/readyz`,
        { rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on("error", () => resolve(false));
    });
  while (!(await ready())) {
    if (Date.now() > deadline || children.some((c) => c.exitCode !== null)) {
      await stop();
      throw new Error(`kube-apiserver did not become ready:\n${logs.join("").slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { url, token, kubeConfig, stop };
}

/** Removes what a CRD's structural schema forbids (kubeconform adds additionalProperties:false). */
function structural(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(structural);
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "additionalProperties" && v === false) continue;
    if (k === "$schema") continue;
    out[k] = structural(v);
  }
  return out;
}

/** The Knative Service CRD built from the shared schema, so the real server validates like a cluster. */
export function knativeServiceCrd(): Record<string, unknown> {
  const schema = structural(
    JSON.parse(readFileSync(path.join(defaultSchemaDir, "serving.knative.dev/service_v1.json"), "utf8")),
  ) as { properties: Record<string, unknown> };
  // A CRD's metadata may only be `type: object` (the server owns its schema).
  schema.properties.metadata = { type: "object" };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "services.serving.knative.dev" },
    spec: {
      group: "serving.knative.dev",
      scope: "Namespaced",
      names: {
        plural: "services",
        singular: "service",
        kind: "Service",
        listKind: "ServiceList",
        shortNames: ["ksvc"],
      },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: { openAPIV3Schema: schema },
          subresources: { status: {} },
        },
      ],
    },
  };
}
