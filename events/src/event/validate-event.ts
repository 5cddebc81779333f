import { AppError, zodIssues } from "@maas/errors";
import { CloudEvent, ValidationError } from "cloudevents";
import { getDefinition } from "../catalog/catalog.js";
import { isJsonContentType, type MaasEvent } from "./maas-event.js";

// Attributes the SDK keeps as own properties even when unset; they are not extensions.
const nonExtension = new Set(["data", "data_base64"]);

function invalid(message: string, details?: unknown, cause?: unknown): AppError {
  return new AppError("INVALID_EVENT", message, { details, cause });
}

function specErrors(err: unknown): unknown {
  if (err instanceof ValidationError) return { errors: err.errors ?? [] };
  return undefined;
}

/** JSON payloads can arrive as text or bytes (content types the SDK's parser map does not know). */
function decodeData(event: CloudEvent<unknown>): unknown {
  let data = event.data;
  if (!isJsonContentType(event.datacontenttype)) return data;
  if (data instanceof Uint8Array || ArrayBuffer.isView(data)) {
    const view = data as ArrayBufferView;
    data = new TextDecoder().decode(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  }
  if (typeof data === "string") {
    try {
      return JSON.parse(data);
    } catch (err) {
      throw invalid(`data of ${event.type} is not valid JSON`, undefined, err);
    }
  }
  return data;
}

/**
 * Checks an incoming event three ways: the CloudEvents 1.0 spec (`validate()`; the SDK's deserializers
 * do not validate), the catalog (unknown type → UNKNOWN_EVENT_TYPE) and the type's data schema
 * (→ INVALID_EVENT with field issues). Returns a new frozen event carrying the parsed data.
 *
 * @example
 * const ev = validateEvent(HTTP.toEvent({ headers, body }) as CloudEvent);
 */
export function validateEvent(event: CloudEvent<unknown>): MaasEvent {
  if (event.specversion !== "1.0") {
    throw invalid(`unsupported specversion ${String(event.specversion)}; only 1.0 is accepted`);
  }
  try {
    // validate() answers false (no throw) for versions it does not know; 1.0 is checked above.
    if (!event.validate()) throw invalid("event does not conform to CloudEvents 1.0");
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw invalid(
      `event does not conform to CloudEvents 1.0: ${(err as Error).message}`,
      specErrors(err),
      err,
    );
  }
  const def = getDefinition(event.type);
  if (!def) {
    throw new AppError("UNKNOWN_EVENT_TYPE", `unknown event type ${event.type}`, {
      details: { type: event.type },
    });
  }
  const parsed = def.data.safeParse(decodeData(event));
  if (!parsed.success) {
    throw invalid(`invalid data for ${event.type}`, { issues: zodIssues(parsed.error) });
  }

  const attrs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined || value === null || nonExtension.has(key)) continue;
    attrs[key] = value;
  }
  // Kafka keys arrive as bytes; the extension is a string (CloudEvents type system).
  if (attrs.partitionkey instanceof Uint8Array)
    attrs.partitionkey = Buffer.from(attrs.partitionkey).toString();
  const data = parsed.data as Record<string, unknown> | undefined;
  const dataTenant = typeof data === "object" && data !== null ? data.tenantId : undefined;
  if (typeof attrs.tenantid === "string" && typeof dataTenant === "string" && attrs.tenantid !== dataTenant) {
    // A mismatch would route one tenant's event under another's partition and RLS context.
    throw invalid(`tenantid ${attrs.tenantid} does not match data.tenantId ${dataTenant}`);
  }
  if (attrs.tenantid === undefined && typeof dataTenant === "string") attrs.tenantid = dataTenant;
  if (attrs.partitionkey === undefined && typeof attrs.tenantid === "string")
    attrs.partitionkey = attrs.tenantid;
  if (parsed.data !== undefined) attrs.data = parsed.data;
  try {
    return new CloudEvent<unknown>(attrs, true);
  } catch (err) {
    throw invalid(
      `event does not conform to CloudEvents 1.0: ${(err as Error).message}`,
      specErrors(err),
      err,
    );
  }
}
