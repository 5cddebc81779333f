import { AppError } from "@maas/errors";
import { decodeHttp, type EventPublisher, type MaasEvent } from "@maas/events";
import { Hono } from "hono";
import type { Registry } from "prom-client";
import { counter, histogram } from "../metrics.js";
import { bodyLimit } from "../middleware/body-limit/index.js";
import { renderError, toAppError } from "../middleware/error-handler/index.js";
import type { AppEnv, Logger } from "../types.js";
import { NonRetriableError, RetryAfterError } from "./errors.js";

/** What a handler gets besides the event. */
export interface EventContext {
  /** Bound to the request id and the event's id, type and tenant. */
  logger: Logger;
  requestId: string;
  /** Emits follow-up events to the function's sink (K_SINK). */
  publish: EventPublisher["publish"];
}

/**
 * Handles one CloudEvent. Resolve = done (202). Throw NonRetriableError = never retry (422),
 * RetryAfterError = retry later (429 + Retry-After), anything else = retry (500).
 * Delivery is at-least-once: a handler must be idempotent on `event.id`.
 */
export type EventHandler = (event: MaasEvent, ctx: EventContext) => Promise<void>;

/** Handlers keyed by full CloudEvent type (`io.maas.deployment.requested.v1`). */
export type EventHandlers = Readonly<Record<string, EventHandler>>;

export interface EventReceiverOptions {
  functionName: string;
  handlers: EventHandlers;
  publisher: EventPublisher;
  registry: Registry;
  /** Knative delivers to the Service root. */
  path?: string;
  /** Events are small JSON documents; anything bigger is a mistake, not a payload to buffer. */
  maxBodyBytes?: number;
}

/** Outcomes counted per event type; bounded so a hostile sender cannot mint label values. */
export type EventOutcome =
  | "accepted"
  | "invalid"
  | "unknown_type"
  | "unhandled"
  | "non_retriable"
  | "retry_later"
  | "failed";

/** Type label for events that did not decode: their `type` is caller-controlled text. */
const UNDECODED_TYPE = "undecoded";

/**
 * The CloudEvent receiver on `POST /`: binary and structured HTTP mode (CloudEvents HTTP binding §3),
 * validated against the catalog by `decodeHttp`. Statuses are chosen for the broker's retry policy
 * (it retries 404/408/409/429/5xx): malformed → 400 INVALID_EVENT, type not in the catalog → 400
 * UNKNOWN_EVENT_TYPE, valid but not handled here → 400 BAD_REQUEST (never 404, which would be
 * retried), handler outcomes as in {@link EventHandler}; success is 202 with an empty body.
 *
 * @example
 * app.route("/", eventReceiver({
 *   functionName: "notifier",
 *   handlers: { [events.invoiceIssued.type]: async (event, { logger }) => logger.info("issued") },
 *   publisher,
 *   registry,
 * }));
 */
export function eventReceiver(options: EventReceiverOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const received = counter(options.registry, {
    name: "cloudevents_received_total",
    help: "CloudEvents received over HTTP, by function, event type and outcome",
    labelNames: ["function", "type", "outcome"] as const,
  });
  const duration = histogram(options.registry, {
    name: "cloudevent_handler_duration_seconds",
    help: "Time spent in event handlers, by function, event type and outcome",
    labelNames: ["function", "type", "outcome"] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
  });
  const count = (type: string, outcome: EventOutcome) =>
    received.inc({ function: options.functionName, type, outcome });
  const publish: EventPublisher["publish"] = (events) => options.publisher.publish(events);

  app.post(
    options.path ?? "/",
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 1024 * 1024,
      onError: () => {
        throw new AppError("PAYLOAD_TOO_LARGE", "event body too large");
      },
    }),
    async (c) => {
      const log = c.get("logger");
      const requestId = c.get("requestId");
      const body = await c.req.text();

      let event: MaasEvent;
      try {
        event = decodeHttp(c.req.raw.headers, body);
      } catch (err) {
        const error = decodeFailure(err);
        count(UNDECODED_TYPE, error.code === "UNKNOWN_EVENT_TYPE" ? "unknown_type" : "invalid");
        log.warn({ code: error.code, ceType: c.req.header("ce-type") }, `event rejected: ${error.message}`);
        return renderError(c, error);
      }

      const handler = options.handlers[event.type];
      if (!handler) {
        count(event.type, "unhandled");
        log.warn({ eventId: event.id, eventType: event.type }, "event type not handled by this function");
        return renderError(
          c,
          new AppError("BAD_REQUEST", `function ${options.functionName} does not handle ${event.type}`, {
            details: { type: event.type },
          }),
        );
      }

      const eventLog = log.child({ eventId: event.id, eventType: event.type, tenantId: event.tenantid });
      const started = performance.now();
      const finish = (outcome: EventOutcome) => {
        count(event.type, outcome);
        duration.observe(
          { function: options.functionName, type: event.type, outcome },
          (performance.now() - started) / 1000,
        );
      };
      try {
        await handler(event, { logger: eventLog, requestId, publish });
      } catch (err) {
        if (err instanceof NonRetriableError) {
          finish("non_retriable");
          eventLog.warn({ err }, `event failed for good: ${err.message}`);
          return renderError(c, new AppError("UNPROCESSABLE", err.message, { cause: err }));
        }
        if (err instanceof RetryAfterError) {
          finish("retry_later");
          eventLog.warn({ err, retryAfterSeconds: err.retryAfterSeconds }, `event deferred: ${err.message}`);
          return renderError(
            c,
            new AppError("RATE_LIMITED", err.message, {
              cause: err,
              retryAfterSeconds: err.retryAfterSeconds,
            }),
          );
        }
        finish("failed");
        eventLog.error({ err }, "event handler failed; the broker will retry");
        return renderError(c, retriable(err));
      }
      finish("accepted");
      return c.body(null, 202);
    },
  );
  return app;
}

/** Anything decodeHttp throws is the sender's fault: a 4xx the broker will not retry. */
function decodeFailure(err: unknown): AppError {
  if (err instanceof AppError && err.status < 500) return err;
  const message = err instanceof Error ? err.message : "malformed CloudEvent";
  return new AppError("INVALID_EVENT", message, { cause: err });
}

/**
 * A failure the broker must retry: keep a 5xx AppError's own code (OVERLOADED, TIMEOUT …); anything
 * else, including a 4xx AppError that a handler let escape, becomes 500 so the event is not lost.
 */
function retriable(err: unknown): AppError {
  const error = toAppError(err);
  if (error.status >= 500) return error;
  return new AppError("INTERNAL", "event handler failed", { cause: err });
}
