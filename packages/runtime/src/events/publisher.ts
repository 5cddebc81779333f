import { AppError } from "@maas/errors";
import { type EventPublisher, HttpPublisher } from "@maas/events";

/**
 * A publisher for a function that has no sink: building it is fine (most functions only receive),
 * using it is a configuration error that names the fix.
 */
export function unconfiguredPublisher(functionName: string): EventPublisher {
  return {
    async publish() {
      throw new AppError(
        "INTERNAL",
        `function ${functionName} has no event sink: set K_SINK (a SinkBinding does this on Knative)`,
      );
    },
  };
}

/**
 * SinkBinding semantics: with `K_SINK` set, events are POSTed there in binary mode; without it,
 * publishing fails loudly instead of dropping events.
 *
 * @example
 * const publisher = defaultPublisher({ functionName: "pipeline", sink: env.K_SINK });
 */
export function defaultPublisher(options: {
  functionName: string;
  sink?: string | undefined;
}): EventPublisher {
  if (options.sink) return new HttpPublisher({ url: options.sink });
  return unconfiguredPublisher(options.functionName);
}
