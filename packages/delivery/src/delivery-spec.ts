import { z } from "zod";

/**
 * A Knative destination (duckv1.Destination): a reference to an Addressable, or a URI, or both (the
 * URI is then resolved against the reference's address).
 */
export const destinationSchema = z
  .object({
    ref: z
      .object({
        apiVersion: z.string().min(1),
        kind: z.string().min(1),
        name: z.string().min(1),
        namespace: z.string().min(1).optional(),
      })
      .optional(),
    uri: z.string().min(1).optional(),
  })
  .refine((d) => d.ref !== undefined || d.uri !== undefined, "a destination needs a ref or a uri");

export type Destination = z.infer<typeof destinationSchema>;

/** The `delivery` block of a Broker, Trigger, KafkaSource or Subscription (eventing duckv1.DeliverySpec). */
export const deliverySpecSchema = z.object({
  retry: z.int().min(0).optional(),
  backoffPolicy: z.enum(["linear", "exponential"]).optional(),
  backoffDelay: z.string().optional(),
  deadLetterSink: destinationSchema.optional(),
  /** Per-attempt request timeout (ISO-8601 duration); Knative's `delivery-timeout` feature. */
  timeout: z.string().optional(),
  /** Upper bound on a Retry-After the subscriber asks for (ISO-8601 duration). */
  retryAfterMax: z.string().optional(),
});

export type DeliverySpec = z.input<typeof deliverySpecSchema>;

/** What a delivery does when the subscriber fails: normalised from a DeliverySpec. */
export interface DeliveryPolicy {
  /** Retries after the first attempt; 0 = one attempt only. */
  retry: number;
  backoffPolicy: "linear" | "exponential";
  backoffDelayMs: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** Retry-After is honoured up to this bound; undefined = unbounded. */
  retryAfterMaxMs: number | undefined;
  deadLetterSink: Destination | undefined;
}

/** Knative's defaults when a delivery spec leaves a field out (no retries, exponential, PT0.2S). */
export const defaultDeliveryPolicy: DeliveryPolicy = Object.freeze({
  retry: 0,
  backoffPolicy: "exponential",
  backoffDelayMs: 200,
  timeoutMs: 30_000,
  retryAfterMaxMs: undefined,
  deadLetterSink: undefined,
});

// ISO-8601 durations as Knative accepts them (time parts and days; no years or months, which have no
// fixed length). Fractions allowed on seconds, e.g. PT0.2S.
const isoDuration =
  /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * Parses an ISO-8601 duration into milliseconds.
 *
 * @example
 * parseIsoDurationMs("PT0.5S"); // 500
 * parseIsoDurationMs("P1DT2H"); // 93_600_000
 */
export function parseIsoDurationMs(value: string): number {
  const m = isoDuration.exec(value.trim().toUpperCase());
  if (!m || value.trim().toUpperCase() === "P" || value.trim().toUpperCase().endsWith("T")) {
    throw new Error(`invalid ISO-8601 duration ${JSON.stringify(value)} (expected e.g. PT0.2S, PT1M)`);
  }
  const [, d, h, min, s] = m;
  const n = (x: string | undefined) => (x === undefined ? 0 : Number(x));
  return Math.round(((n(d) * 24 + n(h)) * 60 + n(min)) * 60_000 + n(s) * 1000);
}

/**
 * Normalises a Knative delivery spec (possibly merged with a Broker-level default) into a policy.
 * Throws on a malformed spec, so a bad manifest fails at start rather than at the first failure.
 *
 * @example
 * const policy = parseDeliverySpec({ retry: 3, backoffPolicy: "linear", backoffDelay: "PT1S" });
 * backoffMs(policy, 2); // 2000
 */
export function parseDeliverySpec(
  spec: unknown,
  defaults: DeliveryPolicy = defaultDeliveryPolicy,
): DeliveryPolicy {
  if (spec === undefined || spec === null) return { ...defaults };
  const parsed = deliverySpecSchema.parse(spec);
  return {
    retry: parsed.retry ?? defaults.retry,
    backoffPolicy: parsed.backoffPolicy ?? defaults.backoffPolicy,
    backoffDelayMs:
      parsed.backoffDelay === undefined ? defaults.backoffDelayMs : parseIsoDurationMs(parsed.backoffDelay),
    timeoutMs: parsed.timeout === undefined ? defaults.timeoutMs : parseIsoDurationMs(parsed.timeout),
    retryAfterMaxMs:
      parsed.retryAfterMax === undefined
        ? defaults.retryAfterMaxMs
        : parseIsoDurationMs(parsed.retryAfterMax),
    deadLetterSink: parsed.deadLetterSink ?? defaults.deadLetterSink,
  };
}

/**
 * Wait before retry number `attempt` (1 = the first retry), per Knative's DeliverySpec docs:
 * linear `backoffDelay * attempt`, exponential `backoffDelay * 2^attempt`.
 */
export function backoffMs(
  policy: Pick<DeliveryPolicy, "backoffPolicy" | "backoffDelayMs">,
  attempt: number,
): number {
  if (attempt < 1) return 0;
  return policy.backoffPolicy === "linear"
    ? policy.backoffDelayMs * attempt
    : policy.backoffDelayMs * 2 ** attempt;
}
