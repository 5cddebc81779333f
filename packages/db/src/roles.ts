/**
 * The two database roles the platform switches to inside a transaction. Both are NOLOGIN: the
 * connecting (owner) user runs migrations and `SET LOCAL ROLE`s to one of them per transaction.
 */
export const DB_ROLES = {
  /** Tenant-scoped work; no BYPASSRLS, sees only rows of `app.tenant_id`. */
  app: "maas_app",
  /** System jobs (metering, billing, outbox relay); policies let it see every row. */
  system: "maas_system",
} as const;

/** The custom setting row-level security policies compare `tenant_id` with. */
export const TENANT_SETTING = "app.tenant_id";
