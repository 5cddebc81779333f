import type { CloudEvent } from "cloudevents";
import { z } from "zod";

const attributeMap = z.record(z.string(), z.string());

/** One expression of the SubscriptionsAPI filter dialect (Knative `spec.filters`). */
export type SubscriptionsApiFilter =
  | { exact: Record<string, string> }
  | { prefix: Record<string, string> }
  | { suffix: Record<string, string> }
  | { all: SubscriptionsApiFilter[] }
  | { any: SubscriptionsApiFilter[] }
  | { not: SubscriptionsApiFilter };

const nonEmptyAttributes = attributeMap.refine(
  (m) => Object.keys(m).length > 0 && Object.entries(m).every(([k, v]) => k !== "" && v !== ""),
  "attribute names and values must not be empty",
);

// Exactly one dialect key per expression, as Knative's webhook validates; CESQL is refused rather than
// silently matching everything.
export const subscriptionsApiFilterSchema: z.ZodType<SubscriptionsApiFilter> = z.lazy(() =>
  z.union([
    z.strictObject({ exact: nonEmptyAttributes }),
    z.strictObject({ prefix: nonEmptyAttributes }),
    z.strictObject({ suffix: nonEmptyAttributes }),
    z.strictObject({ all: z.array(subscriptionsApiFilterSchema).min(1) }),
    z.strictObject({ any: z.array(subscriptionsApiFilterSchema).min(1) }),
    z.strictObject({ not: subscriptionsApiFilterSchema }),
  ]),
);

/** The filtering part of a Trigger spec: the attribute `filter` and/or the newer `filters` dialect. */
export const triggerFilterSchema = z.object({
  filter: z.object({ attributes: attributeMap.optional() }).optional(),
  filters: z.array(subscriptionsApiFilterSchema).optional(),
});

export interface TriggerFilter {
  filter?: { attributes?: Record<string, string> | undefined } | undefined;
  filters?: SubscriptionsApiFilter[] | undefined;
}

/**
 * Parses the filter part of a Trigger spec; throws on a dialect it does not implement (e.g. `cesql`).
 *
 * @example
 * const filter = parseTriggerFilter(trigger.spec);
 */
export function parseTriggerFilter(spec: unknown): TriggerFilter {
  return triggerFilterSchema.parse(spec ?? {});
}

/** A context attribute or extension as a string (CloudEvents type system: every value has a string form). */
function attribute(event: CloudEvent<unknown>, name: string): string | undefined {
  const value = (event as unknown as Record<string, unknown>)[name];
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return String(value);
}

function everyAttribute(
  map: Record<string, string>,
  event: CloudEvent<unknown>,
  test: (actual: string, expected: string) => boolean,
): boolean {
  return Object.entries(map).every(([name, expected]) => {
    const actual = attribute(event, name);
    return actual !== undefined && test(actual, expected);
  });
}

function matchesExpression(f: SubscriptionsApiFilter, event: CloudEvent<unknown>): boolean {
  if ("exact" in f) return everyAttribute(f.exact, event, (a, e) => a === e);
  if ("prefix" in f) return everyAttribute(f.prefix, event, (a, e) => a.startsWith(e));
  if ("suffix" in f) return everyAttribute(f.suffix, event, (a, e) => a.endsWith(e));
  if ("all" in f) return f.all.every((x) => matchesExpression(x, event));
  if ("any" in f) return f.any.some((x) => matchesExpression(x, event));
  return !matchesExpression(f.not, event);
}

/**
 * Knative Trigger filtering. `filters` (SubscriptionsAPI dialect) wins over `filter` when both are set
 * and non-empty; all expressions must match. `filter.attributes` is an exact match on context attributes
 * and extensions, where an empty value matches anything (Knative's `TriggerAnyFilter`). No filter at all
 * matches every event.
 *
 * @example
 * matchesTrigger({ filter: { attributes: { type: "io.maas.tenant.created.v1" } } }, event);
 * matchesTrigger({ filters: [{ prefix: { type: "io.maas.deployment." } }] }, event);
 */
export function matchesTrigger(filter: TriggerFilter, event: CloudEvent<unknown>): boolean {
  if (filter.filters !== undefined && filter.filters.length > 0) {
    return filter.filters.every((f) => matchesExpression(f, event));
  }
  const attributes = filter.filter?.attributes ?? {};
  return Object.entries(attributes).every(([name, expected]) => {
    if (expected === "") return true;
    return attribute(event, name) === expected;
  });
}
