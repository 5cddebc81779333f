import { z } from "@hono/zod-openapi";
import { ERROR_CODES } from "@maas/errors";

/** The platform's one error body (packages/errors), as documented in the OpenAPI document. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
      message: z.string(),
      requestId: z.string(),
      docs: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

const ERROR_DESCRIPTIONS = {
  400: "Invalid request: `VALIDATION_FAILED` with field-level `details.issues`",
  401: "Missing or invalid credentials (`UNAUTHENTICATED`)",
  403: "The role lacks the permission (`FORBIDDEN`) or a quota is exhausted (`QUOTA_EXCEEDED`)",
  404: "No such resource in the caller's tenant (`NOT_FOUND`)",
  409: "The resource's state does not allow this (`CONFLICT`)",
  410: "The upload expired (`GONE`)",
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/**
 * OpenAPI error responses for a route: 400, 401 and 403 always (every `/v1` route validates,
 * authenticates and checks a permission), plus the statuses named.
 *
 * @example
 * responses: { 200: okJson(ModelSchema), ...errorResponses(404) }
 */
export function errorResponses(...extra: ErrorStatus[]) {
  const statuses = [...new Set<ErrorStatus>([400, 401, 403, ...extra])];
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: ERROR_DESCRIPTIONS[status],
        content: { "application/json": { schema: ErrorBodySchema } },
      },
    ]),
  ) as Record<
    ErrorStatus,
    { description: string; content: { "application/json": { schema: typeof ErrorBodySchema } } }
  >;
}

/** A JSON response entry for `responses`. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

/** Ids of one prefix in paths, e.g. `upl_…`. */
export function idParam(prefix: string, example: string) {
  return z
    .string()
    .regex(new RegExp(`^${prefix}_[0-9a-z]{1,64}$`), `expected an id like ${prefix}_…`)
    .openapi({ example });
}

/** DNS label (RFC 1123): model and deployment names end up in URLs and Kubernetes names. */
export const dnsLabel = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "expected lower-case letters, digits and inner dashes");

export const RoleSchema = z.enum(["owner", "admin", "developer", "viewer"]).openapi("Role");

/** A model by id (`mdl_…`) or by name. */
export const ModelRefSchema = z
  .string()
  .min(1)
  .max(68)
  .regex(/^[a-z0-9_-]+$/, "expected a model id (mdl_…) or name")
  .openapi({ param: { name: "model", in: "path" }, example: "resnet" });

export const isoTime = () => z.string().openapi({ format: "date-time", example: "2026-01-01T00:00:00.000Z" });

export function iso(date: Date): string;
export function iso(date: Date | null): string | null;
export function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
