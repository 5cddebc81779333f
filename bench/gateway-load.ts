// Load generation for bench/gateway.ts, in a process of its own: the bench spawns this file, sends
// one JSON job per stdin line and reads one JSON result per stdout line, so the load generator
// never shares an event loop with the servers it measures (or with the bench's own bookkeeping).
// Jobs: closed loop, fixed rate (open loop), and full quota decisions against Redis.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";

export interface Target {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  sent: number;
  byStatus: Record<string, number>;
  errors: number;
  /** Latencies (ms) of the 200 answers, 3 decimals. */
  latenciesMs: number[];
  /** With `trace`: when each of those requests was sent, ms since the job started (same order). */
  sentAtMs?: number[];
  /** With `trace`: the job's start as epoch ms (to line traces up with other processes' clocks). */
  startEpochMs?: number;
  seconds: number;
}

export type Job =
  | { kind: "closed"; targets: Target[]; connections: number; seconds?: number; total?: number }
  | {
      kind: "rate";
      targets: Target[];
      rate: number;
      connections: number;
      seconds: number;
      warmupSeconds?: number;
      trace?: boolean;
    }
  | { kind: "decisions"; mode: "pipeline" | "script"; seconds: number; inflight: number; redisUrl: string };

export interface DecisionsResult {
  decisions: number;
  decisions_per_s: number;
  degraded: number;
  round_trips_per_decision: number;
}

/**
 * The open loop's pacing tick: every tick sends the requests that fell due since the last one, so a
 * fixed rate arrives as bursts of rate × tick. 1 ms (Node's timer resolution), not the 2 ms used
 * before: at 3,000/s a 2 ms tick (2.1–2.5 ms in practice) sent 6–8 requests at once, and the
 * gateway, which takes every request of a burst through its stages together, answered the whole
 * burst at once: ~0.3 ms of its p50 "overhead" was the pacer's grain (bench/gateway.ts, same box,
 * same run). The direct path gets the same pacing.
 */
export const TICK_MS = Number(process.env.BENCH_TICK_MS ?? 1);

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function percentiles(latencies: number[]): { p50: number; p99: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: pct(sorted, 50), p99: pct(sorted, 99) };
}

// ---------------------------------------------------------------------------------------------
// The bench side: a handle on the worker process.

/**
 * Spawns the load worker and runs jobs on it, one at a time.
 *
 * @example
 * const load = await LoadWorker.start();
 * const r = (await load.run({ kind: "closed", targets: [t], connections: 50, seconds: 5 })) as LoadResult;
 * await load.stop();
 */
export class LoadWorker {
  private readonly waiting: Array<(line: string) => void> = [];

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      this.waiting.shift()?.(line);
    });
  }

  static async start(): Promise<LoadWorker> {
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--worker"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    return new LoadWorker(child);
  }

  run(job: Job): Promise<LoadResult | DecisionsResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const parsed = JSON.parse(line) as {
          ok: boolean;
          result?: LoadResult | DecisionsResult;
          error?: string;
        };
        if (parsed.ok && parsed.result) resolve(parsed.result);
        else reject(new Error(parsed.error ?? "load worker failed"));
      });
      this.child.stdin?.write(`${JSON.stringify(job)}\n`);
    });
  }

  async stop(): Promise<void> {
    this.child.stdin?.end();
    if (this.child.exitCode === null) {
      await new Promise((r) => {
        this.child.once("exit", r);
        setTimeout(() => this.child.kill("SIGKILL"), 5_000).unref();
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The worker side.

async function one(pool: Pool, t: Target, result: LoadResult, jobStart = 0): Promise<void> {
  const start = performance.now();
  try {
    const res = await pool.request({ method: "POST", path: t.path, headers: t.headers, body: t.body });
    await res.body.dump();
    result.byStatus[res.statusCode] = (result.byStatus[res.statusCode] ?? 0) + 1;
    if (res.statusCode === 200) {
      result.latenciesMs.push(Math.round((performance.now() - start) * 1000) / 1000);
      result.sentAtMs?.push(Math.round(start - jobStart));
    }
  } catch {
    result.errors++;
  }
}

function newResult(): LoadResult {
  return { sent: 0, byStatus: {}, errors: 0, latenciesMs: [], seconds: 0 };
}

/**
 * Pools live as long as the worker, one per origin and size: the connections a warm-up opened are
 * the ones the measured run uses (a steady state of `connections` keep-alive clients, as behind a
 * load balancer), not 50 new handshakes in its first milliseconds.
 */
const openPools = new Map<string, Pool>();

function poolsFor(targets: Target[], connections: number): Pool[] {
  const per = Math.max(1, Math.ceil(connections / targets.length));
  return targets.map((t) => {
    const key = `${t.origin} ${per}`;
    let pool = openPools.get(key);
    if (pool === undefined) {
      pool = new Pool(t.origin, { connections: per, keepAliveTimeout: 60_000 });
      openPools.set(key, pool);
    }
    return pool;
  });
}

/** Closed loop: `connections` requests always in flight, for `seconds` or until `total` were sent. */
async function closedLoop(job: Extract<Job, { kind: "closed" }>): Promise<LoadResult> {
  const pools = poolsFor(job.targets, job.connections);
  const result = newResult();
  const end = performance.now() + (job.seconds ?? Number.POSITIVE_INFINITY) * 1000;
  const total = job.total ?? Number.POSITIVE_INFINITY;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      while (performance.now() < end && result.sent < total) {
        const i = result.sent++;
        await one(pools[i % pools.length] as Pool, job.targets[i % job.targets.length] as Target, result);
      }
    }),
  );
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

/**
 * Open loop: `rate` requests per second whatever the latency (no coordinated omission). With
 * `warmupSeconds`, the same rate runs that long first, unrecorded (connections, JIT, caches).
 */
async function fixedRate(job: Extract<Job, { kind: "rate" }>): Promise<LoadResult> {
  const pools = poolsFor(job.targets, job.connections);
  if (job.warmupSeconds !== undefined && job.warmupSeconds > 0) {
    await openLoop(job, pools, job.warmupSeconds, newResult());
  }
  const result = newResult();
  if (job.trace) {
    result.sentAtMs = [];
    result.startEpochMs = performance.timeOrigin + performance.now();
  }
  return openLoop(job, pools, job.seconds, result);
}

async function openLoop(
  job: Extract<Job, { kind: "rate" }>,
  pools: Pool[],
  seconds: number,
  result: LoadResult,
): Promise<LoadResult> {
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  const total = Math.round(job.rate * seconds);
  while (result.sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * job.rate) + 1);
    while (result.sent < due) {
      const i = result.sent++;
      const target = job.targets[i % job.targets.length] as Target;
      const p = one(pools[i % pools.length] as Pool, target, result, start);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  // Admission is judged over the sending period (a trailing slow answer does not stretch it).
  result.seconds = (performance.now() - start) / 1000;
  await Promise.all([...inflight]);
  return result;
}

/** Full decisions (rate + concurrency + budget, released after) against Redis, many in flight. */
async function decisions(job: Extract<Job, { kind: "decisions" }>): Promise<DecisionsResult> {
  const { createQuotaDecider, StaticQuotaSource } = await import("@maas/quota");
  const { dropPrefix, quotaRedis, uniquePrefix } = await import("@maas/quota/testing");
  const tenants = Array.from({ length: 100 }, (_, i) => `tnt_gwbench${i.toString(36)}`);
  const quotas = new StaticQuotaSource(
    Object.fromEntries(
      tenants.map((t) => [
        t,
        { maxQps: 1_000_000, maxConcurrency: 1_000_000, monthlyBudgetMicros: 10n ** 15n },
      ]),
    ),
  );
  const redis = quotaRedis(job.redisUrl);
  await redis.connect();
  const keyPrefix = uniquePrefix(`gwbench-${job.mode}`);
  const quota = createQuotaDecider({ redis, quotas, keyPrefix, mode: job.mode, leaseMs: 2000 });
  await quota.warmUp();
  const trips0 = quota.roundTrips + quota.adapter.directCalls;
  let n = 0;
  let degraded = 0;
  let i = 0;
  const deadline = performance.now() + job.seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: job.inflight }, async () => {
      while (performance.now() < deadline) {
        const d = await quota.decide({
          tenantId: tenants[i++ % tenants.length] as string,
          estimatedCostMicros: 1,
        });
        n++;
        if (d.degraded) degraded++;
        if (d.allowed) void quota.release(d.lease);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const trips = quota.roundTrips + quota.adapter.directCalls - trips0;
  await dropPrefix(redis, keyPrefix).catch(() => undefined);
  redis.disconnect();
  return {
    decisions: n,
    decisions_per_s: Math.round(n / elapsed),
    degraded,
    round_trips_per_decision: Math.round((trips / Math.max(1, n)) * 1000) / 1000,
  };
}

async function worker(): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === "") continue;
    try {
      const job = JSON.parse(line) as Job;
      const result =
        job.kind === "closed"
          ? await closedLoop(job)
          : job.kind === "rate"
            ? await fixedRate(job)
            : await decisions(job);
      process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: String(err) })}\n`);
    }
  }
  await Promise.all([...openPools.values()].map((p) => p.close()));
}

if (process.argv.includes("--worker")) await worker();
