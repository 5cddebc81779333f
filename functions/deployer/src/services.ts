import type { Database } from "@maas/db";
import type { KubeApplier, ManifestValidator, RenderOptions, TenantNamespaceOptions } from "@maas/k8s";
import type { Kysely } from "kysely";

/** Everything the deployer's handlers use, built once in main.ts (or by a test). */
export interface DeployerServices {
  db: Kysely<Database>;
  /** The cluster's API server, the fake one, or the local runner's. */
  applier: KubeApplier;
  /** What is rendered is validated before it is applied (the API server would reject it anyway). */
  validator: ManifestValidator;
  render: RenderOptions;
  namespace?: TenantNamespaceOptions;
  /** Prefix of model URIs: `s3://maas-models/` in a cluster, `file:///…/objects/` locally. */
  modelUriBase: string;
  /** How long a rollout may take before the deployment is failed (model fetch + warm-up). */
  readyTimeoutMs: number;
  /** `source` of the events the deployer emits. */
  source?: string;
}
