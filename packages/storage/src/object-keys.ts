import { AppError } from "@maas/errors";

/** Ids and names that may appear as one key segment: no slashes, no dot-led names. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function segment(what: string, value: string): string {
  if (!SEGMENT.test(value)) {
    throw new AppError("VALIDATION_FAILED", `invalid ${what} for an object key: ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The one place object keys are spelled. A tenant's objects all live under `tenants/<tenant>/`, so
 * deleting a tenant is `deletePrefix(objectKeys.tenantPrefix(t))` and the cleanup job can list
 * a tenant's uploads by prefix.
 *
 * @example
 * objectKeys.modelVariant({ tenantId: "tnt_1", modelId: "mdl_1", versionId: "mver_1", variant: "fp32" });
 * // "tenants/tnt_1/models/mdl_1/mver_1/fp32.onnx"
 */
export const objectKeys = {
  tenantPrefix(tenantId: string): string {
    return `tenants/${segment("tenant id", tenantId)}/`;
  },
  modelPrefix(input: { tenantId: string; modelId: string }): string {
    return `${objectKeys.tenantPrefix(input.tenantId)}models/${segment("model id", input.modelId)}/`;
  },
  versionPrefix(input: { tenantId: string; modelId: string; versionId: string }): string {
    return `${objectKeys.modelPrefix(input)}${segment("version id", input.versionId)}/`;
  },
  /** `tenants/<tenant>/models/<model>/<version>/<variant>.onnx` (variants such as `fp16`, `int8`). */
  modelVariant(input: { tenantId: string; modelId: string; versionId: string; variant: string }): string {
    return `${objectKeys.versionPrefix(input)}${segment("variant", input.variant)}.onnx`;
  },
  /**
   * Where a multipart upload lands before the pipeline has checked it: the original the client sent.
   * Kept beside its variants so deleting a version's prefix removes everything.
   */
  upload(input: { tenantId: string; modelId: string; versionId: string }): string {
    return objectKeys.modelVariant({ ...input, variant: "original" });
  },
  /** Prefix under which every in-progress upload of a tenant lives (for `listMultipartUploads`). */
  uploadsPrefix(tenantId: string): string {
    return `${objectKeys.tenantPrefix(tenantId)}models/`;
  },
} as const;
