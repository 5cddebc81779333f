// Lua scripts registered with ioredis `defineCommand` (EVALSHA, falling back to EVAL on NOSCRIPT).
// Result codes shared by the gate and the combined script: 0 admitted, 1 rate, 2 concurrency, 3 budget.

/**
 * Budget check + lease acquire (the part of a decision @upstash/ratelimit does not do); runs in the
 * same pipeline as the library's sliding-window EVALSHA.
 * KEYS: leases ZSET, spend counter. ARGV: now, leaseMs, leaseId, maxConcurrency, budget, estimate.
 * Returns {code, spent, inflight}.
 */
export const GATE_SCRIPT = `
local now = tonumber(ARGV[1])
local leaseMs = tonumber(ARGV[2])
local limit = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local estimate = tonumber(ARGV[6])
local spent = tonumber(redis.call('GET', KEYS[2]) or '0')
if spent + estimate > budget then return {3, spent, 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[1])
if inflight >= limit then return {2, spent, inflight} end
redis.call('ZADD', KEYS[1], now + leaseMs, ARGV[3])
redis.call('PEXPIRE', KEYS[1], leaseMs + 1000)
return {0, spent, inflight + 1}
`;

/**
 * The whole decision in one atomic script: budget, then the same weighted sliding window as
 * @upstash/ratelimit's single-region script (so both modes admit alike), then the lease. Nothing is
 * counted unless every limit admits, so a rejection consumes neither a rate token nor a slot.
 * KEYS: rate current window, rate previous window, leases, spend.
 * ARGV: now, windowMs, maxQps, leaseMs, leaseId, maxConcurrency, budget, estimate.
 * Returns {code, spent, inflight, rateUsed}.
 */
export const DECIDE_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local qps = tonumber(ARGV[3])
local leaseMs = tonumber(ARGV[4])
local limit = tonumber(ARGV[6])
local budget = tonumber(ARGV[7])
local estimate = tonumber(ARGV[8])
local spent = tonumber(redis.call('GET', KEYS[4]) or '0')
if spent + estimate > budget then return {3, spent, 0, 0} end
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local used = math.floor((1 - (now % window) / window) * prev) + cur
if used >= qps then return {1, spent, 0, used} end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[3])
if inflight >= limit then return {2, spent, inflight, used} end
if redis.call('INCRBY', KEYS[1], 1) == 1 then redis.call('PEXPIRE', KEYS[1], window * 2 + 1000) end
redis.call('ZADD', KEYS[3], now + leaseMs, ARGV[5])
redis.call('PEXPIRE', KEYS[3], leaseMs + 1000)
return {0, spent, inflight + 1, used + 1}
`;

/**
 * Extends a live lease. An expired one is not revived: its slot may already be someone else's.
 * KEYS: leases. ARGV: now, leaseMs, leaseId. Returns the new expiry, or 0 if the lease is gone.
 */
export const RENEW_SCRIPT = `
local now = tonumber(ARGV[1])
local score = redis.call('ZSCORE', KEYS[1], ARGV[3])
if not score or tonumber(score) <= now then return 0 end
local expiry = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[2]) + 1000 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000) end
return expiry
`;

/**
 * Adds metered spend and marks each budget threshold the new total reaches, once per period
 * (SET NX): only the call that sets a marker reports that threshold.
 * KEYS: spend, marker 50, marker 80, marker 100. ARGV: amount, budget, ttlSeconds.
 * Returns {total, {newly crossed percents}}.
 */
export const RECORD_SPEND_SCRIPT = `
local ttl = tonumber(ARGV[3])
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ttl)
local budget = tonumber(ARGV[2])
local crossed = {}
if budget > 0 then
  local percents = {50, 80, 100}
  for i = 1, 3 do
    if total * 100 >= budget * percents[i] then
      if redis.call('SET', KEYS[i + 1], '1', 'NX', 'EX', ttl) then
        table.insert(crossed, percents[i])
      end
    end
  end
end
return {total, crossed}
`;
