import { randomBytes } from "node:crypto";
import { AppError } from "@maas/errors";
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "ioredis";
import { Registry } from "prom-client";
import { periodOf, type QuotaKeys, quotaKeys, secondsToNextPeriod } from "./keys.js";
import { LocalBacklog } from "./local-backlog.js";
import { LocalLimiter } from "./local-limiter.js";
import { DECIDE_SCRIPT, GATE_SCRIPT, RENEW_SCRIPT } from "./lua.js";
import { type QuotaMetrics, quotaMetrics } from "./metrics.js";
import type { QuotaSource } from "./quota-source.js";
import { RatelimitRedisAdapter } from "./ratelimit-redis-adapter.js";
import { RedisGuard } from "./redis-guard.js";
import { rateLimitHeaders } from "./rejection.js";
import {
  type DecideInput,
  type Decision,
  type Lease,
  type LimitName,
  type QuotaLogger,
  type Quotas,
  type RejectedDecision,
  silentLogger,
} from "./types.js";

/** What a decision does when Redis cannot be reached (README: "Redis down"). */
export type RedisDownPolicy = "degrade" | "fail-open" | "fail-closed";

/**
 * `pipeline`: @upstash/ratelimit's sliding-window EVALSHA and our budget+lease script pipelined
 * (one round trip; a limit that rejects after another admitted is undone off the hot path).
 * `script`: one atomic script doing all three (same window arithmetic as the library).
 */
export type DecisionMode = "pipeline" | "script";

export interface QuotaDeciderOptions {
  redis: Redis;
  quotas: QuotaSource;
  /** Key prefix; tests use a unique one each. Default `maas:quota:`. */
  keyPrefix?: string;
  mode?: DecisionMode;
  /** A lease frees itself this long after acquire or the last renew; default 30 s. */
  leaseMs?: number;
  /** A Redis call slower than this counts as a failure (default 250 ms; README "Redis down"). */
  redisTimeoutMs?: number;
  /** Failures in a row before the breaker opens and decisions stop trying Redis (default 3). */
  breakerFailures?: number;
  breakerHalfOpenMs?: number;
  redisDownPolicy?: RedisDownPolicy;
  /** Replicas sharing the limits; each takes limit / replicas when Redis is down. Default 1. */
  expectedReplicas?: number;
  registry?: Registry;
  logger?: QuotaLogger;
  /**
   * Releases wait up to this long and travel in the next decision's pipeline (or together when the
   * timer fires), instead of one Redis write each: on a busy gateway each socket write is the
   * largest CPU cost of a release. A slot is then freed up to this much later (a tenant at its
   * concurrency limit loses that much of each slot); in-flight never exceeds the limit. Default 0:
   * each release goes at once.
   */
  releaseBatchMs?: number;
  /**
   * Decisions (and releases) issued during one turn of the event loop leave in one socket write,
   * sent when the turn's I/O callbacks are done (setImmediate), instead of one write each. Requests
   * that arrive together (one poll of the sockets) then cost Redis one write and one read between
   * them; a write on loopback costs more CPU here than the decision's own code. The price: a decision
   * waits for the rest of its turn's callbacks (tens to hundreds of µs under load, nothing when
   * idle). Default false: each decision writes at once.
   */
  coalesceWrites?: boolean;
}

const RATE_WINDOW_MS = 1000;
/**
 * Long enough that a busy event loop or a loaded host does not read as "Redis down" (50 ms did, and
 * each false trip admitted on local limits: bench/results/gateway.json, first run); a dead Redis
 * fails at once anyway (no offline queue), so only a paused or partitioned one costs this.
 */
export const DEFAULT_REDIS_TIMEOUT_MS = 250;
const CODE_LIMIT: Record<number, LimitName> = { 1: "rate", 2: "concurrency", 3: "budget" };

interface QuotaCommands {
  maasQuotaGate(...args: (string | number)[]): Promise<number[]>;
  maasQuotaDecide(...args: (string | number)[]): Promise<number[]>;
  maasQuotaRenew(...args: (string | number)[]): Promise<number>;
}

interface PendingRelease {
  key: string;
  id: string;
  done: () => void;
}

interface RedisVerdict {
  code: number;
  spent: number;
  inflight: number;
  rateRemaining: number;
  rateResetMs: number;
}

/**
 * The one quota decision: QPS (sliding window, @upstash/ratelimit), concurrency (leased Redis
 * semaphore) and monthly budget (month-to-date spend + the request's estimate), in one Redis round
 * trip. Used in-process by the gateway and behind the `quota` function's HTTP API.
 *
 * @example
 * const quota = createQuotaDecider({ redis: new Redis(url, { enableOfflineQueue: false }), quotas });
 * await quota.warmUp();
 * const d = await quota.decide({ tenantId: "tnt_1", estimatedCostMicros: 1200 });
 * if (!d.allowed) throw toAppError(d);
 * try { ... } finally { await quota.release(d.lease); }
 */
export class QuotaDecider {
  readonly keys: QuotaKeys;
  readonly adapter: RatelimitRedisAdapter;
  readonly guard: RedisGuard;
  readonly metrics: QuotaMetrics;
  /** Redis round trips taken by decisions (pipelines and single scripts), for the benchmark. */
  roundTrips = 0;
  private readonly redis: Redis;
  private readonly commands: QuotaCommands;
  private readonly quotas: QuotaSource;
  private readonly mode: DecisionMode;
  private readonly leaseMs: number;
  private readonly policy: RedisDownPolicy;
  private readonly local: LocalLimiter;
  private readonly limiters = new Map<number, Ratelimit>();
  private readonly localLeases = new Map<string, string>();
  /** Local admissions Redis has not been told about yet (synced when it answers again). */
  private readonly backlog = new LocalBacklog();
  private syncing: Promise<void> | undefined;
  /** Last month-to-date spend Redis reported per tenant, plus local estimates while degraded. */
  private readonly lastSpend = new Map<string, { period: string; spent: number }>();
  private readonly instance = randomBytes(6).toString("hex");
  private seq = 0;
  private readonly releaseBatchMs: number;
  private pendingReleases: PendingRelease[] = [];
  private releaseTimer: NodeJS.Timeout | undefined;
  private readonly coalesceWrites: boolean;
  /** The socket corked for this turn of the event loop (coalesceWrites), uncorked at setImmediate. */
  private corkedStream: { cork(): void; uncork(): void } | undefined;

  constructor(options: QuotaDeciderOptions) {
    this.redis = options.redis;
    this.quotas = options.quotas;
    this.mode = options.mode ?? "pipeline";
    this.leaseMs = options.leaseMs ?? 30_000;
    this.releaseBatchMs = Math.max(0, options.releaseBatchMs ?? 0);
    this.coalesceWrites = options.coalesceWrites ?? false;
    this.policy = options.redisDownPolicy ?? "degrade";
    this.keys = quotaKeys(options.keyPrefix ?? "maas:quota:");
    this.local = new LocalLimiter(options.expectedReplicas ?? 1);
    this.metrics = quotaMetrics(options.registry ?? new Registry());
    this.guard = new RedisGuard({
      timeoutMs: options.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS,
      consecutiveFailures: options.breakerFailures ?? 3,
      halfOpenAfterMs: options.breakerHalfOpenMs ?? 1000,
      logger: options.logger ?? silentLogger,
      metrics: this.metrics,
    });
    this.adapter = new RatelimitRedisAdapter(this.redis);
    this.redis.defineCommand("maasQuotaGate", { numberOfKeys: 2, lua: GATE_SCRIPT });
    this.redis.defineCommand("maasQuotaDecide", { numberOfKeys: 4, lua: DECIDE_SCRIPT });
    this.redis.defineCommand("maasQuotaRenew", { numberOfKeys: 1, lua: RENEW_SCRIPT });
    this.commands = this.redis as unknown as QuotaCommands;
  }

  /**
   * Registers the library's script with the adapter (its first call goes NOSCRIPT → EVAL, outside
   * any pipeline) so every later decision is one round trip. Call before serving.
   */
  async warmUp(): Promise<void> {
    await this.limiterFor(1).limit(this.keys.rateIdentifier("warmup"));
    // Load our scripts too: otherwise the first decision pays EVALSHA → NOSCRIPT → EVAL, two round
    // trips, which on a loaded machine is what first trips the timeout.
    await Promise.all(
      [GATE_SCRIPT, DECIDE_SCRIPT, RENEW_SCRIPT].map((lua) => this.redis.script("LOAD", lua)),
    );
    await this.redis.call("PING");
  }

  async decide(input: DecideInput): Promise<Decision> {
    const { tenantId, estimatedCostMicros: estimate } = input;
    if (!Number.isSafeInteger(estimate) || estimate < 0) {
      throw new AppError("VALIDATION_FAILED", "estimatedCostMicros must be a non-negative integer", {
        details: { estimatedCostMicros: estimate },
      });
    }
    const now = input.now ?? Date.now();
    const quotas = await this.quotas.get(tenantId);
    const leaseId = `${this.instance}.${(this.seq++).toString(36)}`;
    const period = periodOf(now);
    const run =
      this.mode === "script"
        ? () => this.viaScript(tenantId, quotas, estimate, now, leaseId, period)
        : () => this.viaPipeline(tenantId, quotas, estimate, now, leaseId, period);
    const verdict = await this.guard.run(run);
    if (!verdict.ok) return this.whenRedisDown(tenantId, quotas, estimate, now, period, leaseId);

    const v = verdict.value;
    if (this.backlog.size > 0) this.syncBacklog();
    this.lastSpend.set(tenantId, { period, spent: v.spent });
    const headers = rateLimitHeaders({
      quotas,
      rateRemaining: v.rateRemaining,
      rateResetSeconds: v.rateResetMs / 1000,
      concurrencyRemaining: quotas.maxConcurrency - v.inflight,
    });
    if (v.code === 0) {
      this.metrics.decisions.inc({ outcome: "allowed", limit: "none", path: "redis" });
      return {
        allowed: true,
        lease: { tenantId, id: leaseId, expiresAt: now + this.leaseMs, source: "redis" },
        degraded: false,
        headers,
      };
    }
    const limit = CODE_LIMIT[v.code] ?? "rate";
    this.metrics.decisions.inc({ outcome: "rejected", limit, path: "redis" });
    return this.reject(limit, quotas, v, now, headers, false);
  }

  /** Frees the slot now (a lost release frees itself after the lease time). Idempotent. */
  async release(lease: Lease): Promise<void> {
    if (lease.source === "local") {
      if (this.localLeases.delete(lease.id)) this.local.release(lease.tenantId);
      this.backlog.released(lease.id);
      // The lease may have reached Redis meanwhile (a late reply kept it, or the backlog sync added
      // it): free it there too. Unguarded and unawaited: a miss expires on its own.
      void this.redis.zrem(this.keys.leases(lease.tenantId), lease.id).catch(() => undefined);
      return;
    }
    if (lease.source !== "redis") return;
    if (this.releaseBatchMs === 0) {
      await this.guard.run(() => this.redis.zrem(this.keys.leases(lease.tenantId), lease.id));
      return;
    }
    await new Promise<void>((done) => {
      this.pendingReleases.push({ key: this.keys.leases(lease.tenantId), id: lease.id, done });
      if (this.releaseTimer === undefined) {
        this.releaseTimer = setTimeout(() => this.flushReleases(), this.releaseBatchMs);
        this.releaseTimer.unref();
      }
    });
  }

  /** Sends the waiting releases now (one write): the batch timer, when no decision took them. */
  private flushReleases(): Promise<void> {
    return this.corked(() => this.takeReleases()) ?? Promise.resolve();
  }

  /**
   * Sends the waiting releases (one ZREM per tenant); resolves when they are done (or failed: a
   * lost release frees itself after the lease time). Undefined when none waited.
   */
  private takeReleases(): Promise<void> | undefined {
    if (this.releaseTimer !== undefined) {
      clearTimeout(this.releaseTimer);
      this.releaseTimer = undefined;
    }
    const batch = this.pendingReleases;
    if (batch.length === 0) return undefined;
    this.pendingReleases = [];
    const byKey = new Map<string, string[]>();
    for (const r of batch) {
      const ids = byKey.get(r.key);
      if (ids === undefined) byKey.set(r.key, [r.id]);
      else ids.push(r.id);
    }
    return this.guard
      .run(() => Promise.all([...byKey].map(([key, ids]) => this.redis.zrem(key, ...ids))))
      .then(() => {
        for (const r of batch) r.done();
      });
  }

  /**
   * Runs `fn` with the Redis socket corked: every command it issues synchronously leaves in one
   * write (a socket write is the largest CPU cost of a Redis call on a busy gateway; an ioredis
   * Pipeline does the same but costs more to build than the write it saves).
   */
  private corked<T>(fn: () => T): T {
    const stream = (this.redis as unknown as { stream?: { cork(): void; uncork(): void } }).stream;
    const cork = this.redis.status === "ready" && stream !== undefined;
    if (cork && this.coalesceWrites) {
      if (this.corkedStream === undefined) {
        this.corkedStream = stream;
        stream.cork();
        setImmediate(() => {
          this.corkedStream = undefined;
          stream.uncork();
        });
      }
      return fn();
    }
    if (cork) stream.cork();
    try {
      return fn();
    } finally {
      if (cork) stream.uncork();
    }
  }

  /**
   * Extends a live lease for a long request; undefined if it already expired (its slot may be
   * someone else's: the caller should treat the request as over its limit) or Redis is unreachable.
   */
  async renew(lease: Lease, now = Date.now()): Promise<Lease | undefined> {
    if (lease.source !== "redis") return { ...lease, expiresAt: now + this.leaseMs };
    const result = await this.guard.run(() =>
      this.commands.maasQuotaRenew(this.keys.leases(lease.tenantId), now, this.leaseMs, lease.id),
    );
    if (!result.ok || result.value === 0) return undefined;
    return { ...lease, expiresAt: Number(result.value) };
  }

  /** Slots a tenant holds now, according to Redis. */
  async inFlight(tenantId: string, now = Date.now()): Promise<number> {
    return this.redis.zcount(this.keys.leases(tenantId), `(${now}`, "+inf");
  }

  private limiterFor(maxQps: number): Ratelimit {
    let limiter = this.limiters.get(maxQps);
    if (limiter === undefined) {
      limiter = new Ratelimit({
        redis: this.adapter.asUpstash(),
        limiter: Ratelimit.slidingWindow(maxQps, "1 s"),
        prefix: this.keys.ratePrefix,
        // The ephemeral cache blocks an identifier until the end of the *fixed* window after one
        // rejection, while the sliding window would admit again as the previous window's weight
        // decays: it under-admits (see the integration test), so it is off.
        ephemeralCache: false,
        // The library's timeout resolves `success: true` (fails open) after it; ours decides instead.
        timeout: 0,
        analytics: false,
        enableProtection: false,
      });
      this.limiters.set(maxQps, limiter);
    }
    return limiter;
  }

  private async viaPipeline(
    tenantId: string,
    q: Quotas,
    estimate: number,
    now: number,
    leaseId: string,
    period: string,
  ): Promise<RedisVerdict> {
    const limiter = this.limiterFor(q.maxQps);
    const identifier = this.keys.rateIdentifier(tenantId);
    // Waiting releases, then both scripts, in one socket write and one round trip; the releases
    // run first, so a slot this gateway freed is free for this decision. The library reaches its
    // EVALSHA synchronously, so it is written with the rest.
    const { rate, gate } = this.corked(() => {
      void this.takeReleases();
      return {
        rate: this.adapter.withBatch(this.redis, () => limiter.limit(identifier)),
        gate: this.commands.maasQuotaGate(
          this.keys.leases(tenantId),
          this.keys.spend(tenantId, period),
          now,
          this.leaseMs,
          leaseId,
          q.maxConcurrency,
          q.monthlyBudgetMicros.toString(),
          estimate,
        ),
      };
    });
    this.roundTrips++;
    // Settled below; a failure of one must not leave the other's rejection unhandled.
    rate.catch(() => undefined);
    // A decision that timed out may still land in Redis later: give back what it took.
    gate.then(
      (reply) => this.undoIfAbandoned(reply, tenantId, leaseId),
      () => undefined,
    );
    const [gateCode = 0, spent = 0, inflight = 0] = await gate;
    const r = await rate;
    const rateAdmitted = r.success;
    let code = gateCode;
    if (gateCode !== 3 && !rateAdmitted) code = 1;
    // Undo the half that admitted when the other rejected; off the hot path, and a lost undo is
    // bounded (a lease expires, a rate token leaves the window within 2 s).
    if (code !== 0 && gateCode === 0)
      void this.redis.zrem(this.keys.leases(tenantId), leaseId).catch(() => undefined);
    if (code !== 0 && rateAdmitted) {
      // A refund is its own round trip, off the hot path, so not counted as an escaped call.
      const refund = this.adapter.withBatch(this.redis, () => limiter.limit(identifier, { rate: -1 }));
      void refund.catch(() => undefined);
    }
    return { code, spent, inflight, rateRemaining: r.remaining, rateResetMs: Math.max(0, r.reset - now) };
  }

  private async viaScript(
    tenantId: string,
    q: Quotas,
    estimate: number,
    now: number,
    leaseId: string,
    period: string,
  ): Promise<RedisVerdict> {
    const window = Math.floor(now / RATE_WINDOW_MS);
    const reply = this.corked(() => {
      void this.takeReleases(); // first: see viaPipeline
      return this.commands.maasQuotaDecide(
        this.keys.rateWindow(tenantId, window),
        this.keys.rateWindow(tenantId, window - 1),
        this.keys.leases(tenantId),
        this.keys.spend(tenantId, period),
        now,
        RATE_WINDOW_MS,
        q.maxQps,
        this.leaseMs,
        leaseId,
        q.maxConcurrency,
        q.monthlyBudgetMicros.toString(),
        estimate,
      );
    });
    this.roundTrips++;
    reply.then(
      (r) => this.undoIfAbandoned(r, tenantId, leaseId),
      () => undefined,
    );
    const [code = 0, spent = 0, inflight = 0, used = 0] = await reply;
    return {
      code,
      spent,
      inflight,
      rateRemaining: q.maxQps - used,
      rateResetMs: (window + 1) * RATE_WINDOW_MS - now,
    };
  }

  /**
   * A decision that timed out here still landed in Redis. If the local limits admitted the request
   * anyway, Redis's lease (and rate token) is exactly the accounting we want, so it stays and the
   * local release frees it; otherwise the lease it took is given back.
   */
  private undoIfAbandoned(reply: number[], tenantId: string, leaseId: string): void {
    if (!this.abandoned.delete(leaseId)) return;
    if (reply[0] !== 0 || this.localLeases.has(leaseId)) return;
    void this.redis.zrem(this.keys.leases(tenantId), leaseId).catch(() => undefined);
  }

  /**
   * Tells Redis what this instance admitted on its own while degraded (README "Redis down"): adds
   * the admissions to the rate windows and the live leases to the lease ZSETs, so the cluster-wide
   * limits count them right after recovery. Off the hot path; one sync at a time; a failed sync
   * puts nothing back (bounded loss: those windows pass within 2 s, those leases expire).
   */
  private syncBacklog(): void {
    if (this.syncing !== undefined) return;
    const now = Date.now();
    const syncs = this.backlog.drain(now, RATE_WINDOW_MS);
    if (syncs.length === 0) return;
    const multi = this.redis.multi();
    for (const t of syncs) {
      for (const [window, n] of t.windows) {
        const key = this.keys.rateWindow(t.tenantId, window);
        multi.incrby(key, n);
        multi.pexpire(key, RATE_WINDOW_MS * 2 + 1000);
      }
      if (t.leases.size > 0) {
        const key = this.keys.leases(t.tenantId);
        const args: (string | number)[] = [];
        for (const [id, expiresAt] of t.leases) args.push(expiresAt, id);
        multi.zadd(key, ...args);
        multi.pexpire(key, this.leaseMs + 1000);
      }
    }
    this.metrics.backlogSynced.inc(
      syncs.reduce((n, t) => n + [...t.windows.values()].reduce((a, b) => a + b, 0), 0),
    );
    this.syncing = multi
      .exec()
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.syncing = undefined;
      });
  }

  /** Lease ids of decisions that gave up on Redis; bounded (a missed undo still expires). */
  private readonly abandoned = new Set<string>();

  private whenRedisDown(
    tenantId: string,
    quotas: Quotas,
    estimate: number,
    now: number,
    period: string,
    seq: string,
  ): Decision {
    if (this.abandoned.size >= 10_000) this.abandoned.clear();
    this.abandoned.add(seq);
    if (this.policy === "fail-open") {
      this.metrics.decisions.inc({ outcome: "allowed", limit: "none", path: "fail-open" });
      return {
        allowed: true,
        lease: { tenantId, id: seq, expiresAt: now + this.leaseMs, source: "none" },
        degraded: true,
        headers: {},
      };
    }
    if (this.policy === "fail-closed") {
      this.metrics.decisions.inc({ outcome: "rejected", limit: "unavailable", path: "fail-closed" });
      return {
        allowed: false,
        limit: "unavailable",
        value: 0,
        used: 0,
        retryAfterSeconds: 1,
        headers: { "Retry-After": "1" },
        degraded: true,
      };
    }
    // degrade: budget from the last spend Redis reported (plus what this instance admitted since),
    // rate and concurrency from this instance's share.
    const known = this.lastSpend.get(tenantId);
    const spent = known?.period === period ? known.spent : 0;
    const budget = Number(quotas.monthlyBudgetMicros);
    if (spent + estimate > budget) {
      this.metrics.decisions.inc({ outcome: "rejected", limit: "budget", path: "local" });
      return this.reject(
        "budget",
        quotas,
        { code: 3, spent, inflight: 0, rateRemaining: 0, rateResetMs: 0 },
        now,
        {},
        true,
      );
    }
    const verdict = this.local.acquire(tenantId, quotas, now);
    if (!verdict.allowed) {
      this.metrics.decisions.inc({ outcome: "rejected", limit: verdict.limit, path: "local" });
      const headers = rateLimitHeaders({
        quotas,
        rateRemaining: 0,
        rateResetSeconds: 1,
        concurrencyRemaining: verdict.limit === "concurrency" ? 0 : quotas.maxConcurrency,
      });
      const rejected = this.reject(
        verdict.limit,
        quotas,
        { code: 0, spent, inflight: verdict.used, rateRemaining: 0, rateResetMs: 1000 },
        now,
        headers,
        true,
      );
      // The limit that decided is this instance's share, not the cluster-wide one.
      return { ...rejected, value: verdict.value, used: verdict.used };
    }
    this.lastSpend.set(tenantId, { period, spent: spent + estimate });
    this.localLeases.set(seq, tenantId);
    this.backlog.add({ tenantId, leaseId: seq, at: now, expiresAt: now + this.leaseMs, released: false });
    this.metrics.decisions.inc({ outcome: "allowed", limit: "none", path: "local" });
    return {
      allowed: true,
      lease: { tenantId, id: seq, expiresAt: now + this.leaseMs, source: "local" },
      degraded: true,
      headers: rateLimitHeaders({
        quotas,
        rateRemaining: verdict.rateRemaining,
        rateResetSeconds: 1,
        concurrencyRemaining: quotas.maxConcurrency - verdict.inflight,
      }),
    };
  }

  private reject(
    limit: LimitName,
    quotas: Quotas,
    v: RedisVerdict,
    now: number,
    headers: Record<string, string>,
    degraded: boolean,
  ): RejectedDecision {
    if (limit === "budget") {
      const retryAfterSeconds = secondsToNextPeriod(now);
      return {
        allowed: false,
        limit,
        value: Number(quotas.monthlyBudgetMicros),
        used: v.spent,
        retryAfterSeconds,
        headers: { "Retry-After": String(retryAfterSeconds) },
        degraded,
      };
    }
    // Concurrency: a slot frees when some request ends, which we cannot foresee; 1 s is a polite poll.
    const retryAfterSeconds = limit === "rate" ? Math.max(1, Math.ceil(v.rateResetMs / 1000)) : 1;
    return {
      allowed: false,
      limit,
      value: limit === "rate" ? quotas.maxQps : quotas.maxConcurrency,
      used: limit === "rate" ? quotas.maxQps - Math.max(0, v.rateRemaining) : v.inflight,
      retryAfterSeconds,
      headers: { ...headers, "Retry-After": String(retryAfterSeconds) },
      degraded,
    };
  }
}

/**
 * Builds the decider.
 *
 * @example
 * const quota = createQuotaDecider({ redis, quotas: new CachedQuotaSource(new PostgresQuotaSource(db)) });
 */
export function createQuotaDecider(options: QuotaDeciderOptions): QuotaDecider {
  return new QuotaDecider(options);
}
