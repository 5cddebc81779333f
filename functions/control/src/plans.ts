import { DEFAULT_QUOTAS } from "@maas/quota";

const GiB = 1024 ** 3;

export const PLANS = ["free", "pro", "enterprise"] as const;
export type Plan = (typeof PLANS)[number];

export interface PlanQuotas {
  max_models: number;
  max_storage_bytes: number;
  max_qps: number;
  max_concurrency: number;
  monthly_budget_micros: number;
}

/**
 * The quotas row a new tenant starts with. `free` is the quotas table's own defaults (the quota
 * module's DEFAULT_QUOTAS), so a tenant without a row and a new free tenant are limited alike.
 * Operators change a tenant's quotas afterwards; the plan only sets the starting point.
 */
export const PLAN_QUOTAS: Readonly<Record<Plan, PlanQuotas>> = Object.freeze({
  free: {
    max_models: DEFAULT_QUOTAS.maxModels,
    max_storage_bytes: Number(DEFAULT_QUOTAS.maxStorageBytes),
    max_qps: DEFAULT_QUOTAS.maxQps,
    max_concurrency: DEFAULT_QUOTAS.maxConcurrency,
    monthly_budget_micros: Number(DEFAULT_QUOTAS.monthlyBudgetMicros),
  },
  pro: {
    max_models: 100,
    max_storage_bytes: 500 * GiB,
    max_qps: 200,
    max_concurrency: 64,
    monthly_budget_micros: 5_000_000_000,
  },
  enterprise: {
    max_models: 1000,
    max_storage_bytes: 10_240 * GiB,
    max_qps: 2000,
    max_concurrency: 512,
    monthly_budget_micros: 100_000_000_000,
  },
});
