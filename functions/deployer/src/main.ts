import { KubeConfig } from "@kubernetes/client-node";
import { loadEnvOrExit } from "@maas/config";
import { createDb } from "@maas/db";
import { ClientNodeApplier, createManifestValidator, kubeConfigFor } from "@maas/k8s";
import { depsFromEnv, runFunction } from "@maas/runtime";
import { createDeployer } from "./app.js";
import { deployerEnvSchema } from "./env.js";

// Parsed once at start: a bad env exits here, so the revision never becomes ready.
const env = loadEnvOrExit(deployerEnvSchema);
const { db, close } = createDb(env.DATABASE_URL ? { url: env.DATABASE_URL } : {});
let kubeConfig: KubeConfig;
if (env.KUBE_API_URL) kubeConfig = kubeConfigFor(env.KUBE_API_URL);
else {
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
}
const fn = createDeployer(
  { ...depsFromEnv("deployer", env), onShutdown: close },
  {
    db,
    applier: new ClientNodeApplier({ kubeConfig }),
    validator: createManifestValidator(env.CRD_SCHEMA_DIR),
    render: {
      image: env.INFERENCE_IMAGE,
      scaleToZeroRetention: env.SCALE_TO_ZERO_RETENTION,
      ...(env.STORAGE_SECRET ? { storageSecret: env.STORAGE_SECRET } : {}),
      env: env.INFERENCE_ENV,
    },
    modelUriBase: env.MODEL_URI_BASE,
    readyTimeoutMs: env.READY_TIMEOUT_MS,
  },
);
await runFunction(fn, env);
