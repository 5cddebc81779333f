import type { EventHandler } from "@maas/runtime";
import type { UsageIngestor } from "../usage/usage-ingestor.js";

/**
 * `inference.completed` delivered one per HTTP request (the KafkaSource, the local runner): the
 * same exactly-once path as a Kafka batch, with a batch of one. A redelivery answers 202 and
 * changes nothing.
 */
export function inferenceCompletedHandler(ingestor: UsageIngestor): EventHandler {
  return async function handleInferenceCompleted(event, { logger }) {
    const result = await ingestor.ingest([event]);
    logger.info(
      {
        eventId: event.id,
        inserted: result.inserted,
        duplicate: result.duplicates > 0,
        late: result.late > 0,
      },
      "inference.completed received",
    );
  };
}
