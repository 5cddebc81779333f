/** Labels every object the deployer owns carries (selectors, NetworkPolicies and cleanup use them). */
export const LABELS = {
  tenant: "maas.dev/tenant",
  tenantSlug: "maas.dev/tenant-slug",
  model: "maas.dev/model",
  version: "maas.dev/version",
  deployment: "maas.dev/deployment",
  managedBy: "app.kubernetes.io/managed-by",
  component: "app.kubernetes.io/component",
} as const;

/** The field manager for server-side apply: one owner for everything the deployer renders. */
export const FIELD_MANAGER = "maas-deployer";

/** `tenant-<slug>`: the namespace a tenant's inference Services live in. */
export function tenantNamespace(slug: string): string {
  return `tenant-${slug}`;
}
