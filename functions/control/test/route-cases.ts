import type { TenantRole } from "@maas/auth";
import type { Resources } from "./resources.js";

export type Group = "access" | "registry" | "deployments";

/** One route as the security suites see it. */
export interface RouteCase {
  group: Group;
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: (r: Resources) => string;
  /** A valid body (JSON), or raw bytes for the part upload. */
  body?: (r: Resources) => unknown;
  raw?: { bytes: number };
  /** The least role that may call it; "operator" for operator-only routes. */
  least: TenantRole | "operator";
  /** A request that fails validation, and the field the 400 must name; absent where the route takes no input. */
  invalid?: { path?: (r: Resources) => string; body?: unknown; field: string };
  /** False where the route addresses no existing resource (creates, lists). */
  addressesResource: boolean;
}

const SHA = "b".repeat(64);

export const ROUTE_CASES: RouteCase[] = [
  // ---- operators ----
  {
    group: "access",
    method: "POST",
    path: () => "/v1/tenants",
    body: () => ({ slug: `s-${Math.random().toString(36).slice(2, 10)}`, name: "New" }),
    least: "operator",
    invalid: { body: { slug: "Not A Slug", name: "x" }, field: "slug" },
    addressesResource: false,
  },
  {
    group: "access",
    method: "GET",
    path: (r) => `/v1/tenants/${r.tenantId}`,
    least: "operator",
    invalid: { path: () => "/v1/tenants/acme", field: "tenantId" },
    addressesResource: false,
  },
  {
    group: "access",
    method: "POST",
    path: (r) => `/v1/tenants/${r.tenantId}/suspend`,
    body: () => ({}),
    least: "operator",
    invalid: { body: { reason: "" }, field: "reason" },
    addressesResource: false,
  },
  // ---- keys and members ----
  {
    group: "access",
    method: "POST",
    path: () => "/v1/keys",
    body: () => ({ name: "ci", role: "viewer" }),
    least: "admin",
    invalid: { body: { name: "ci", role: "god" }, field: "role" },
    addressesResource: false,
  },
  {
    group: "access",
    method: "GET",
    path: () => "/v1/keys",
    least: "admin",
    addressesResource: false,
  },
  {
    group: "access",
    method: "DELETE",
    path: (r) => `/v1/keys/${r.keyId}`,
    least: "admin",
    invalid: { path: () => "/v1/keys/not-a-key", field: "keyId" },
    addressesResource: true,
  },
  {
    group: "access",
    method: "POST",
    path: () => "/v1/members",
    body: () => ({ subject: `s-${Math.random()}`, role: "viewer" }),
    least: "owner",
    invalid: { body: { subject: "", role: "viewer" }, field: "subject" },
    addressesResource: false,
  },
  {
    group: "access",
    method: "GET",
    path: () => "/v1/members",
    least: "admin",
    addressesResource: false,
  },
  {
    group: "access",
    method: "DELETE",
    path: (r) => `/v1/members/${r.memberId}`,
    least: "owner",
    invalid: { path: () => "/v1/members/not-a-member", field: "memberId" },
    addressesResource: true,
  },
  {
    group: "access",
    method: "GET",
    path: () => "/v1/audit",
    least: "admin",
    invalid: { path: () => "/v1/audit?limit=0", field: "limit" },
    addressesResource: false,
  },
  // ---- registry ----
  {
    group: "registry",
    method: "POST",
    path: () => "/v1/models",
    body: () => ({ name: `n-${Math.random().toString(36).slice(2, 10)}` }),
    least: "developer",
    invalid: { body: { name: "Not A Name!" }, field: "name" },
    addressesResource: false,
  },
  {
    group: "registry",
    method: "GET",
    path: () => "/v1/models",
    least: "viewer",
    addressesResource: false,
  },
  {
    group: "registry",
    method: "GET",
    path: (r) => `/v1/models/${r.modelId}`,
    least: "viewer",
    invalid: { path: () => "/v1/models/BAD*NAME", field: "model" },
    addressesResource: true,
  },
  {
    group: "registry",
    method: "GET",
    path: (r) => `/v1/models/${r.modelId}/versions/1`,
    least: "viewer",
    invalid: { path: (r) => `/v1/models/${r.modelId}/versions/0`, field: "version" },
    addressesResource: true,
  },
  {
    group: "registry",
    method: "POST",
    path: (r) => `/v1/models/${r.modelId}/uploads`,
    body: () => ({ sizeBytes: 1000, sha256: SHA }),
    least: "developer",
    invalid: { body: { sizeBytes: -5, sha256: SHA }, field: "sizeBytes" },
    addressesResource: true,
  },
  {
    group: "registry",
    method: "GET",
    path: (r) => `/v1/uploads/${r.uploadId}`,
    least: "developer",
    invalid: { path: () => "/v1/uploads/nope", field: "uploadId" },
    addressesResource: true,
  },
  {
    group: "registry",
    method: "POST",
    path: (r) => `/v1/uploads/${r.uploadId}/parts`,
    body: () => ({ partNumbers: [1] }),
    least: "developer",
    invalid: { body: { partNumbers: [] }, field: "partNumbers" },
    addressesResource: true,
  },
  {
    group: "registry",
    method: "PUT",
    path: (r) => `/v1/uploads/${r.uploadId}/parts/1`,
    raw: { bytes: 100 },
    least: "developer",
    invalid: { path: (r) => `/v1/uploads/${r.uploadId}/parts/0`, field: "partNumber" },
    addressesResource: true,
  },
  {
    group: "registry",
    method: "POST",
    path: (r) => `/v1/uploads/${r.uploadId}/complete`,
    body: () => ({}),
    least: "developer",
    invalid: { path: () => "/v1/uploads/nope/complete", field: "uploadId" },
    addressesResource: true,
  },
  {
    group: "registry",
    method: "DELETE",
    path: (r) => `/v1/uploads/${r.uploadId}`,
    least: "developer",
    invalid: { path: () => "/v1/uploads/nope", field: "uploadId" },
    addressesResource: true,
  },
  // ---- deployments ----
  {
    group: "deployments",
    method: "POST",
    path: () => "/v1/deployments",
    body: (r) => ({ name: `x-${Math.random().toString(36).slice(2, 8)}`, model: r.modelId, version: 1 }),
    least: "developer",
    invalid: { body: { name: "ok", model: "m", version: 0 }, field: "version" },
    addressesResource: true,
  },
  {
    group: "deployments",
    method: "GET",
    path: () => "/v1/deployments",
    least: "viewer",
    addressesResource: false,
  },
  {
    group: "deployments",
    method: "GET",
    path: (r) => `/v1/deployments/${r.deploymentId}`,
    least: "viewer",
    invalid: { path: () => "/v1/deployments/nope", field: "deploymentId" },
    addressesResource: true,
  },
  {
    group: "deployments",
    method: "DELETE",
    path: (r) => `/v1/deployments/${r.deploymentId}`,
    least: "developer",
    invalid: { path: () => "/v1/deployments/nope", field: "deploymentId" },
    addressesResource: true,
  },
];

const ORDER: TenantRole[] = ["owner", "admin", "developer", "viewer"];

/** A tenant role below the least one, or undefined when every role may call the route. */
export function roleBelow(least: TenantRole): TenantRole | undefined {
  return ORDER[ORDER.indexOf(least) + 1];
}
