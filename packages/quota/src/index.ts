export { type CountCheck, checkModelCount, checkStorage, type TenantHoldings } from "./count-checks.js";
export { type QuotaEnv, quotaEnvSchema } from "./env.js";
export { periodOf, type QuotaKeys, quotaKeys, secondsToNextPeriod } from "./keys.js";
export { LocalLimiter, perInstanceShare } from "./local-limiter.js";
export { type QuotaMetrics, quotaMetrics } from "./metrics.js";
export {
  createQuotaDecider,
  type DecisionMode,
  QuotaDecider,
  type QuotaDeciderOptions,
  type RedisDownPolicy,
} from "./quota-decider.js";
export {
  CachedQuotaSource,
  type CachedQuotaSourceOptions,
  PostgresQuotaSource,
  type QuotaSource,
  StaticQuotaSource,
} from "./quota-source.js";
export { RatelimitRedisAdapter, stripShebang } from "./ratelimit-redis-adapter.js";
export { RedisGuard } from "./redis-guard.js";
export { rateLimitHeaders, toAppError } from "./rejection.js";
export {
  BUDGET_THRESHOLDS,
  type BudgetThreshold,
  type RecordSpendInput,
  type RecordSpendResult,
  SpendLedger,
  type SpendSource,
} from "./spend-ledger.js";
export * from "./types.js";
