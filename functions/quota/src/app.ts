import { authenticate } from "@maas/auth";
import { createFunction, type FunctionDeps, type MaasFunction } from "@maas/runtime";
import { registerV1Decisions } from "./routes/v1-decisions.js";
import { registerV1TenantQuotas } from "./routes/v1-tenant-quotas.js";
import { registerV1TenantUsage } from "./routes/v1-tenant-usage.js";
import type { QuotaEnv, QuotaServices } from "./services.js";

export type { HoldingsReader, LiveUsage, QuotaServices, QuotaStore } from "./services.js";

/**
 * The quota function (DESIGN §2): the one decision module (@maas/quota) over HTTP for callers other
 * than the gateway, and the admin view of a tenant's quotas and usage.
 *
 * @example
 * const fn = createQuota(services, { logger });
 * await fn.app.request("/v1/decisions", { method: "POST", headers, body: JSON.stringify({ estimatedCostMicros: 100 }) });
 */
export function createQuota(
  services: QuotaServices,
  deps: FunctionDeps & { onShutdown?: () => Promise<void> } = {},
): MaasFunction<QuotaEnv> {
  return createFunction<QuotaEnv>({
    name: "quota",
    ...deps,
    routes(app) {
      app.use("/v1/*", authenticate({ verifier: services.verifier }));
      registerV1Decisions(app, services);
      registerV1TenantQuotas(app, services);
      registerV1TenantUsage(app, services);
    },
  });
}
