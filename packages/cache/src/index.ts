export { PRINCIPAL_CACHE, twoLevelPrincipalCache } from "./adapters/principal-cache.js";
export { QUOTAS_CACHE, quotasCodec, TwoLevelQuotaSource } from "./adapters/quota-source.js";
export { type Codec, jsonCodec } from "./codec.js";
export { type CacheMetrics, cacheMetrics } from "./metrics.js";
export {
  type CacheLogger,
  INVALIDATION_CHANNEL,
  type Loaded,
  publishInvalidation,
  TwoLevelCache,
  type TwoLevelCacheOptions,
} from "./two-level-cache.js";
