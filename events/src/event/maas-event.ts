import type { CloudEvent } from "cloudevents";

/**
 * A validated platform event: the cloudevents SDK's CloudEvent (frozen by the SDK), whose `data` has
 * passed its catalog schema. Extensions: `tenantid`, `partitionkey` (= tenantid, the Kafka
 * partitioning extension), `traceparent` (W3C distributed tracing extension).
 */
export type MaasEvent<T = unknown> = CloudEvent<T>;

/** The JSON content types whose payload is parsed as JSON (`application/json`, `…+json`). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mime = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return mime === "application/json" || mime === "text/json" || mime.endsWith("+json");
}
