export { knownLength, MeteredStream, toReadable } from "./body.js";
export { createObjectStore, type StorageEnv, storageEnvSchema } from "./create-object-store.js";
export { FsObjectStore, type FsObjectStoreConfig } from "./fs-object-store.js";
export { GiB, MiB, S3_LIMITS, TiB } from "./limits.js";
export { objectKeys } from "./object-keys.js";
export type {
  Body,
  ByteRange,
  CompletedPart,
  CreateMultipartOptions,
  MultipartUploadInfo,
  ObjectInfo,
  ObjectStore,
  PartInfo,
} from "./object-store.js";
export { choosePartSize, type PartSizeOptions, partCount, partRange } from "./part-size.js";
export { toAppError as s3ToAppError } from "./s3-errors.js";
export { S3ObjectStore, type S3ObjectStoreConfig } from "./s3-object-store.js";
