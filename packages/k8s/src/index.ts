export {
  type ApiServer,
  type ApiServerOptions,
  type Controller,
  startApiServer,
} from "./api-server/api-server.js";
export { keyOf, ObjectStore, type StoredEvent, type WatchEventType } from "./api-server/object-store.js";
export { ClientNodeApplier, type ClientNodeApplierOptions } from "./client-node-applier.js";
export {
  collectionPath,
  KubeApiError,
  type KubeApplier,
  type KubeObject,
  type ObjectRef,
  RESOURCES,
  type ReadyResult,
  readiness,
  refOf,
} from "./kube-applier.js";
export { kubeConfigFor } from "./kube-config.js";
export { FIELD_MANAGER, LABELS, tenantNamespace } from "./labels.js";
export {
  AUTOSCALING,
  cpuCores,
  GPU_RESOURCE,
  type InferenceDeployment,
  inferenceDeploymentSchema,
  type RenderOptions,
  renderInferenceService,
} from "./render-inference-service.js";
export {
  renderTenantNamespace,
  type TenantNamespaceInput,
  type TenantNamespaceOptions,
  type TenantObject,
  tenantNamespaceInputSchema,
} from "./render-tenant-namespace.js";
export {
  collectManifests,
  createManifestValidator,
  defaultSchemaDir,
  goRegExp,
  isManifestFile,
  type ManifestDocument,
  type ManifestValidator,
  validateManifest,
} from "./validate-manifest.js";
export { readYamlDocuments } from "./yaml-documents.js";
