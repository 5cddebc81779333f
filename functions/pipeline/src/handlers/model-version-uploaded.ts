import type { EventHandler } from "@maas/runtime";

/**
 * `io.maas.model.version.uploaded.v1`. Thin for now: it only records that the event arrived, so delivery
 * can be tested end to end; the real work lands with issue 4. It must stay idempotent on `event.id`
 * (delivery is at-least-once).
 */
export const handleModelVersionUploaded: EventHandler = async (event, { logger }) => {
  // TODO(issue 4): verify size and SHA-256, parse and validate the ONNX model, build FP16/INT8 variants,
  // emit model.version.ready or .rejected.
  logger.info({ source: event.source, subject: event.subject }, "model.version.uploaded received");
};
