import { KubeConfig } from "@kubernetes/client-node";

/**
 * A KubeConfig for a plain-HTTP API server (the fake, the local runner), no credentials.
 *
 * @example
 * const applier = new ClientNodeApplier({ kubeConfig: kubeConfigFor("http://127.0.0.1:6443") });
 */
export function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "local", server, skipTLSVerify: true }],
    users: [{ name: "local" }],
    contexts: [{ name: "local", cluster: "local", user: "local" }],
    currentContext: "local",
  });
  return kc;
}
