import type { QuotaMetrics } from "./metrics.js";
import type { QuotaLogger } from "./types.js";

export interface RedisGuardOptions {
  /** A Redis call slower than this counts as a failure; default 250 ms. */
  timeoutMs?: number;
  /** Failures in a row that open the breaker; default 3. */
  consecutiveFailures?: number;
  /** While open, calls skip Redis entirely; one trial call after this long; default 1000 ms. */
  halfOpenAfterMs?: number;
  logger: QuotaLogger;
  metrics: QuotaMetrics;
}

export type Guarded<T> = { ok: true; value: T } | { ok: false; error: unknown };

export class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = "RedisTimeoutError";
  }
}

export class BreakerOpenError extends Error {
  constructor() {
    super("Redis circuit open");
    this.name = "BreakerOpenError";
  }
}

interface Waiter {
  deadline: number;
  fail: (error: Error) => void;
}

/**
 * Timeout + circuit breaker around Redis calls, and the degraded/healthy state: a dead or paused
 * Redis costs at most `timeoutMs` for the calls that open the breaker, then nothing until the
 * half-open trial; recovery is the first call that succeeds. Each transition is logged once and
 * counted.
 *
 * Hand-written rather than cockatiel's timeout+breaker: per call those allocate an AbortController
 * and a DOMException, which measured as the largest single cost of a decision (bench/quota.ts).
 * Timeouts here share one sweeping timer; waiters are kept in deadline order (one fixed timeout),
 * so a sweep stops at the first live one.
 *
 * @example
 * const guard = new RedisGuard({ timeoutMs: 50, logger, metrics });
 * const r = await guard.run(() => redis.get("k"));
 * if (!r.ok) useFallback();
 */
export class RedisGuard {
  private readonly timeoutMs: number;
  private readonly threshold: number;
  private readonly halfOpenAfterMs: number;
  private readonly waiters = new Set<Waiter>();
  private sweeper: NodeJS.Timeout | undefined;
  private failures = 0;
  private openUntil = 0;
  private trialInFlight = false;
  private isDegraded = false;

  constructor(private readonly options: RedisGuardOptions) {
    this.timeoutMs = options.timeoutMs ?? 250;
    this.threshold = options.consecutiveFailures ?? 3;
    this.halfOpenAfterMs = options.halfOpenAfterMs ?? 1000;
  }

  get degraded(): boolean {
    return this.isDegraded;
  }

  /** closed: calls go to Redis; open: they fail at once; half-open: one trial call is out. */
  get state(): "closed" | "open" | "half-open" {
    if (this.failures < this.threshold) return "closed";
    return Date.now() < this.openUntil ? "open" : "half-open";
  }

  async run<T>(fn: () => Promise<T>): Promise<Guarded<T>> {
    let trial = false;
    if (this.failures >= this.threshold) {
      if (Date.now() < this.openUntil || this.trialInFlight) return this.failed(new BreakerOpenError());
      this.trialInFlight = true;
      trial = true;
    }
    try {
      const value = await this.withTimeout(fn());
      this.failures = 0;
      if (this.isDegraded) this.transition(false, undefined);
      return { ok: true, value };
    } catch (error) {
      this.failures++;
      if (this.failures >= this.threshold) this.openUntil = Date.now() + this.halfOpenAfterMs;
      return this.failed(error);
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }

  private failed(error: unknown): Guarded<never> {
    this.options.metrics.redisFailures.inc();
    if (!this.isDegraded) this.transition(true, error);
    return { ok: false, error };
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = { deadline: Date.now() + this.timeoutMs, fail: reject };
      this.waiters.add(waiter);
      this.sweeper ??= setInterval(() => this.sweep(), Math.max(1, Math.floor(this.timeoutMs / 4))).unref();
      promise.then(
        (v) => {
          if (this.waiters.delete(waiter)) resolve(v);
        },
        (e) => {
          if (this.waiters.delete(waiter)) reject(e);
        },
      );
    });
  }

  private sweep(): void {
    const now = Date.now();
    for (const w of this.waiters) {
      if (w.deadline > now) break;
      this.waiters.delete(w);
      w.fail(new RedisTimeoutError(this.timeoutMs));
    }
    if (this.waiters.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private transition(degraded: boolean, error: unknown): void {
    this.isDegraded = degraded;
    this.options.metrics.degraded.set(degraded ? 1 : 0);
    this.options.metrics.redisTransitions.inc({ to: degraded ? "degraded" : "redis" });
    if (degraded) {
      this.options.logger.warn({ err: error }, "quota: Redis unreachable, applying the Redis-down policy");
    } else {
      this.options.logger.info({}, "quota: Redis reachable again, decisions back on Redis");
    }
  }
}
