// Full quota decisions per second against the local Redis, one process, many decisions in flight,
// both decision modes in the same run. `pnpm exec tsx bench/quota.ts` from the repo root (REDIS_URL
// overrides the local Redis); writes bench/results/quota.json.
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// bench/package.json does not list @maas/quota yet, so import its source by path.
import { createQuotaDecider, type DecisionMode, StaticQuotaSource } from "@maas/quota";
import { dropPrefix, quotaRedis, redisUrl, uniquePrefix } from "@maas/quota/testing";

const here = dirname(fileURLToPath(import.meta.url));
const IN_FLIGHT = Number(process.env.QUOTA_BENCH_INFLIGHT ?? 256);
const SECONDS = Number(process.env.QUOTA_BENCH_SECONDS ?? 5);
const TENANTS = 100;

const tenants = Array.from({ length: TENANTS }, (_, i) => `tnt_bench${i.toString(36)}`);
// Limits high enough that every decision runs all three checks to the end and admits.
const quotas = new StaticQuotaSource(
  Object.fromEntries(
    tenants.map((t) => [
      t,
      { maxQps: 1_000_000, maxConcurrency: 1_000_000, monthlyBudgetMicros: 10n ** 15n },
    ]),
  ),
);

/** Total microseconds Redis spent in script calls so far (INFO commandstats). */
async function scriptUsec(redis: ReturnType<typeof quotaRedis>): Promise<number> {
  const info = await redis.info("commandstats");
  let usec = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/g)) usec += Number(m[1]);
  return usec;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function run(mode: DecisionMode, withRelease: boolean) {
  const redis = quotaRedis();
  await redis.connect();
  const keyPrefix = uniquePrefix(`bench-${mode}`);
  // Short leases keep the lease sets bounded when decisions are not released.
  const quota = createQuotaDecider({ redis, quotas, keyPrefix, mode, leaseMs: 1000, redisTimeoutMs: 1000 });
  await quota.warmUp();
  const usec0 = await scriptUsec(redis);
  const direct0 = quota.adapter.directCalls;
  const trips0 = quota.roundTrips;
  let decisions = 0;
  let rejected = 0;
  let degraded = 0;
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  let i = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const tenantId = tenants[i++ % TENANTS] as string;
      const t = performance.now();
      const d = await quota.decide({ tenantId, estimatedCostMicros: 1 });
      if ((decisions & 15) === 0) latencies.push(performance.now() - t);
      decisions++;
      if (d.degraded) degraded++;
      if (!d.allowed) rejected++;
      else if (withRelease) await quota.release(d.lease);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const elapsed = (performance.now() - start) / 1000;
  // Redis's own time per decision (scripts only; the shared server's other users add a little).
  const redisUsecPerDecision = ((await scriptUsec(redis)) - usec0) / decisions;
  latencies.sort((a, b) => a - b);
  const result = {
    mode,
    with_release: withRelease,
    decisions,
    decisions_per_s: Math.round(decisions / elapsed),
    redis_round_trips_per_decision:
      (quota.roundTrips - trips0 + quota.adapter.directCalls - direct0) / decisions,
    redis_script_usec_per_decision: Number(redisUsecPerDecision.toFixed(2)),
    redis_bound_decisions_per_s: Math.round(1e6 / redisUsecPerDecision),
    rejected,
    degraded,
    latency_ms_p50: Number(percentile(latencies, 50).toFixed(3)),
    latency_ms_p99: Number(percentile(latencies, 99).toFixed(3)),
  };
  console.log(JSON.stringify(result));
  await dropPrefix(redis, keyPrefix);
  redis.disconnect();
  return result;
}

const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
const pipeline = await run("pipeline", false);
const script = await run("script", false);
const pipelineRelease = await run("pipeline", true);
const scriptRelease = await run("script", true);

const figures = {
  quota_decisions_per_s: pipeline.decisions_per_s,
  quota_decisions_per_s_script_mode: script.decisions_per_s,
  script_vs_pipeline_throughput_ratio: Number((script.decisions_per_s / pipeline.decisions_per_s).toFixed(2)),
  redis_round_trips_per_decision: pipeline.redis_round_trips_per_decision,
  redis_round_trips_per_decision_script_mode: script.redis_round_trips_per_decision,
  redis_script_usec_per_decision: pipeline.redis_script_usec_per_decision,
  redis_script_usec_per_decision_script_mode: script.redis_script_usec_per_decision,
  decide_plus_release_per_s: pipelineRelease.decisions_per_s,
  decide_plus_release_per_s_script_mode: scriptRelease.decisions_per_s,
  latency_ms_p50_at_inflight: pipeline.latency_ms_p50,
  latency_ms_p99_at_inflight: pipeline.latency_ms_p99,
};
const goals = {
  quota_decisions_per_s: {
    target: "≥ 20,000 full decisions/s (pipeline mode, @upstash/ratelimit)",
    met: pipeline.decisions_per_s >= 20_000,
  },
  quota_decisions_per_s_script_mode: {
    target: "≥ 20,000 full decisions/s (script mode, one combined Lua script)",
    met: script.decisions_per_s >= 20_000,
  },
  redis_round_trips_per_decision: {
    target: "= 1",
    met: pipeline.redis_round_trips_per_decision === 1 && script.redis_round_trips_per_decision === 1,
  },
};
const report = {
  name: "quota",
  command: "pnpm exec tsx bench/quota.ts",
  date: new Date().toISOString(),
  environment: {
    node: process.version,
    redis: redisUrl,
    in_flight: IN_FLIGHT,
    seconds_per_run: SECONDS,
    tenants: TENANTS,
    load_average_at_start: loadAtStart,
    cpus: cpus().length,
  },
  figures,
  goals,
  runs: { pipeline, script, pipelineRelease, scriptRelease },
  notes: [
    "a full decision = rate (sliding window) + concurrency lease + budget, one Redis round trip, all admitted",
    "pipeline mode: @upstash/ratelimit's EVALSHA and the budget+lease script in one ioredis pipeline; script mode: one combined Lua script",
    "decide_plus_release: each admitted decision released right away (a second round trip, ZREM)",
    "one process, one ioredis connection per run (no auto-pipelining, see packages/quota/README.md); Redis, the bench and everyone else's work share the machine's 2 cores",
    "redis_bound_decisions_per_s = 1e6 / Redis's script time per decision: the ceiling if Redis had a core to itself",
  ],
};
console.log(JSON.stringify({ figures, goals }, null, 2));
await mkdir(join(here, "results"), { recursive: true });
await writeFile(join(here, "results", "quota.json"), `${JSON.stringify(report, null, 2)}\n`);
