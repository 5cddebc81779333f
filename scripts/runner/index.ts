export { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.js";
export { FunctionProcess, type FunctionProcessOptions, type ProcessState } from "./function-process.js";
export {
  type LoadedResource,
  loadKustomization,
  type Resource,
  readYamlDocuments,
  resourceSchema,
} from "./manifests.js";
export { PingScheduler, pingEvent } from "./ping-scheduler.js";
export {
  type Platform,
  type PlatformOptions,
  repoRoot,
  type ServiceInfo,
  startPlatform,
} from "./platform.js";
export { formatTable } from "./table.js";
export * from "./topology.js";
