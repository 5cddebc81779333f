// Gateway acceptance benchmark (issue 6), every figure in one bounded run:
// - overhead: client→gateway→upstream minus client→upstream, same run, 50 connections at a fixed
//   rate of half the direct path's saturation, all quota checks on (auth, route, decision, release,
//   usage to Kafka); phases interleaved so both paths share the machine's noise;
// - the gateway's own saturation throughput (closed loop, 50 connections);
// - concurrency: most requests ever in flight at the upstream minus the tenant's limit, two gateways;
// - rate accuracy: 2× a tenant's QPS limit for 30 s through two gateways sharing it in Redis;
// - full quota decisions per second against Redis (in the load process, the gateway's mode);
// - usage: 100,000 requests → distinct `inference.completed` events on a throwaway Kafka topic, with
//   Kafka unreachable from the gateway for part of the run (a TCP proxy this bench controls sits in
//   front of the shared broker, which is never stopped), missing and duplicated counted.
// Processes: upstream (bench/gateway-upstream.ts), gateways (functions/gateway/src/main.ts) and the
// load generator (bench/gateway-load.ts --worker) each run in their own; this one only orchestrates.
// Run: pnpm exec tsx bench/gateway.ts   → bench/results/gateway.json
// Knobs: BENCH_SECONDS (5), BENCH_WARMUP_SECONDS (1), BENCH_OVERHEAD_ROUNDS (4), BENCH_RATE_SECONDS (30),
//        BENCH_USAGE_REQUESTS (100000), BENCH_REFERENCE_RATE (1000),
//        BENCH_KAFKA_DOWN_SECONDS (8), QUOTA_MODE (the gateways' decision mode, default pipeline),
//        BENCH_GATEWAY (bundle: the deployable bundle, built into a temporary folder first, run by plain
//        node as deployed; source: functions/gateway/src through tsx), GATEWAY_MAIN (a bundle already built),
//        BENCH_TICK_MS (the fixed-rate pacer's tick, bench/gateway-load.ts),
//        BENCH_CASES (comma list of saturation,overhead,concurrency,rate,decisions,usage; default all:
//        a partial run is for iterating and does not write bench/results/gateway.json).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { bundleFunction } from "../scripts/bundle/bundle-function.js";
import {
  advertisedBroker,
  createTopic,
  deleteTopic,
  freePort,
  freshGatewayDb,
  type GatewayProcess,
  kafkaBrokers,
  readTopic,
  redisUrl,
  seedTenantWithModel,
  startGateway,
  TcpProxy,
  topicCount,
  uniqueId,
  uniqueRedisPrefix,
} from "../tests/gateway/harness.js";
import {
  type DecisionsResult,
  type LoadResult,
  LoadWorker,
  percentiles,
  type Target,
  TICK_MS,
} from "./gateway-load.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 30);
const USAGE_REQUESTS = Number(process.env.BENCH_USAGE_REQUESTS ?? 100_000);
const KAFKA_DOWN_SECONDS = Number(process.env.BENCH_KAFKA_DOWN_SECONDS ?? 8);
/**
 * Each measured fixed-rate phase follows this much of the same load, unrecorded: the other path ran
 * meanwhile, so the gateway's upstream connections, caches and JIT state are warmed again first. The
 * load generator keeps its client connections across phases (bench/gateway-load.ts).
 */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
/**
 * Interleaved direct/gateway rounds for the overhead. Four, not two: the gateway's mark-compact GC
 * (~12 ms pause, every ~10 s at this rate) lands in two 5 s rounds about half the time, and each one
 * moves the p99 by several times; four rounds make the figure include them as they come.
 */
const OVERHEAD_ROUNDS = Number(process.env.BENCH_OVERHEAD_ROUNDS ?? 4);
/**
 * The overhead again at one fixed rate whatever the gateway's saturation (two interleaved rounds):
 * the headline rate follows the gateway's saturation, so a faster gateway is measured under more
 * load; this one compares runs (and sessions: 1,000/s is about the rate of the earlier runs).
 */
const REFERENCE_RATE = Number(process.env.BENCH_REFERENCE_RATE ?? 1000);
const QUOTA_MODE = process.env.QUOTA_MODE === "script" ? "script" : "pipeline";
const ALL_CASES = ["saturation", "overhead", "concurrency", "rate", "decisions", "usage"];
const CASES = new Set(
  (process.env.BENCH_CASES ?? ALL_CASES.join(",")).split(",").filter((c) => ALL_CASES.includes(c)),
);
const FULL_RUN = ALL_CASES.every((c) => CASES.has(c));
const GATEWAY_FORM = process.env.BENCH_GATEWAY === "source" ? "source" : "bundle";
const CONNECTIONS = 50;
const RATE_LIMIT_QPS = 50;
const CONCURRENCY_LIMIT = 8;
const children: ChildProcess[] = [];
/** Drops the run's database; set once it exists (the signal handlers call it). */
let cleanup: (() => Promise<void>) | undefined;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
const load1 = () => Math.round((loadavg()[0] ?? 0) * 100) / 100;
const log = (msg: string) =>
  console.log(`[${new Date().toISOString().slice(11, 19)} load ${load1()}] ${msg}`);

async function startUpstream(): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/gateway-upstream.ts"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once("line", resolve),
  );
  return `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
}

async function upstreamStats(upstream: string, reset = false) {
  const res = await fetch(`${upstream}/stats`, { method: reset ? "POST" : "GET" });
  return (await res.json()) as Record<string, { inflight: number; maxInflight: number; received: number }>;
}

/** The recorded figures (issue 6) first, then context; null: the case failed (see `errors`). */
interface Figures {
  overhead_p50_ms: number | null;
  overhead_p99_ms: number | null;
  gateway_saturation_rps: number | null;
  rate_admitted_error_pct: number | null;
  max_inflight_minus_limit: number | null;
  quota_decisions_per_s: number | null;
  usage_events_missing: number | null;
  usage_events_duplicated: number | null;
  direct_p50_ms: number | null;
  direct_p99_ms: number | null;
  gateway_p50_ms: number | null;
  gateway_p99_ms: number | null;
  gateway_non_200_at_fixed_rate: number | null;
  gateway_p99_by_round_ms: number[] | null;
  overhead_p50_ms_at_reference_rate: number | null;
  overhead_p99_ms_at_reference_rate: number | null;
  gateway_gc_major: number | null;
  gateway_gc_major_ms_total: number | null;
  gateway_gc_minor: number | null;
  gateway_gc_minor_ms_mean: number | null;
  direct_saturation_rps: number | null;
  rate_admitted_qps: number | null;
  rate_local_decisions: number | null;
  max_inflight: number | null;
  concurrency_statuses: Record<string, number> | null;
  quota_decisions_per_s_other_mode: number | null;
  quota_round_trips_per_decision: number | null;
  usage_requests_ok: number | null;
  usage_statuses: Record<string, number> | null;
  usage_events_spooled: number | null;
  usage_events_dropped: number | null;
  usage_kafka_down_seconds: number | null;
  usage_rps: number | null;
  usage_requests_on_topic: number | null;
  usage_event_id_collisions: number | null;
}

function emptyFigures(): Figures {
  return {
    overhead_p50_ms: null,
    overhead_p99_ms: null,
    gateway_saturation_rps: null,
    rate_admitted_error_pct: null,
    max_inflight_minus_limit: null,
    quota_decisions_per_s: null,
    usage_events_missing: null,
    usage_events_duplicated: null,
    direct_p50_ms: null,
    direct_p99_ms: null,
    gateway_p50_ms: null,
    gateway_p99_ms: null,
    gateway_non_200_at_fixed_rate: null,
    gateway_p99_by_round_ms: null,
    overhead_p50_ms_at_reference_rate: null,
    overhead_p99_ms_at_reference_rate: null,
    gateway_gc_major: null,
    gateway_gc_major_ms_total: null,
    gateway_gc_minor: null,
    gateway_gc_minor_ms_mean: null,
    direct_saturation_rps: null,
    rate_admitted_qps: null,
    rate_local_decisions: null,
    max_inflight: null,
    concurrency_statuses: null,
    quota_decisions_per_s_other_mode: null,
    quota_round_trips_per_decision: null,
    usage_requests_ok: null,
    usage_statuses: null,
    usage_events_spooled: null,
    usage_events_dropped: null,
    usage_kafka_down_seconds: null,
    usage_rps: null,
    usage_requests_on_topic: null,
    usage_event_id_collisions: null,
  };
}

const inferBody = JSON.stringify({
  inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
});

async function main() {
  const started = performance.now();
  const loadAtStart = loadavg().map((n) => Math.round(n * 100) / 100);
  const runId = uniqueId();
  const usageTopic = `maas.usage.bench-${runId}`;
  const mainTopic = `maas.usage.bench-main-${runId}`;
  const database = await freshGatewayDb();
  cleanup = () => database.close();
  const spool = await mkdtemp(join(tmpdir(), "gw-bench-spool-"));
  // What is deployed is the bundle (scripts/bundle), run by plain node: measure that, not tsx's
  // loader over the sources. startGateway (tests/gateway/harness.ts) runs GATEWAY_MAIN when set.
  let gatewayMain = process.env.GATEWAY_MAIN ?? "";
  if (GATEWAY_FORM === "bundle" && gatewayMain === "") {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const built = await bundleFunction({
      root,
      name: "gateway",
      install: "copy",
      outRoot: join(spool, "bundle"),
    });
    gatewayMain = join(built.dir, "main.js");
    process.env.GATEWAY_MAIN = gatewayMain;
  }
  const gateways: GatewayProcess[] = [];
  let proxy: TcpProxy | undefined;
  let load: LoadWorker | undefined;
  try {
    const upstream = await startUpstream();
    await Promise.all([createTopic(kafkaBrokers, usageTopic, 3), createTopic(kafkaBrokers, mainTopic, 3)]);
    const advertised = await advertisedBroker(kafkaBrokers);
    const [kHost = "127.0.0.1", kPort = "0"] = advertised.split(":");
    proxy = new TcpProxy(await freePort(), { host: kHost, port: Number(kPort) });
    await proxy.up();

    const unlimited = { max_qps: 1_000_000, max_concurrency: 100_000, monthly_budget_micros: 1e15 };
    const fast = await seedTenantWithModel(database.db, {
      url: upstream,
      modelName: "fast",
      quotas: unlimited,
    });
    const limited = await seedTenantWithModel(database.db, {
      url: upstream,
      modelName: "limited",
      quotas: { ...unlimited, max_qps: RATE_LIMIT_QPS },
    });
    const slow = await seedTenantWithModel(database.db, {
      url: upstream,
      modelName: "slow",
      quotas: { ...unlimited, max_concurrency: CONCURRENCY_LIMIT },
    });
    const metered = await seedTenantWithModel(database.db, {
      url: upstream,
      modelName: "metered",
      quotas: unlimited,
    });

    const prefix = uniqueRedisPrefix("bench");
    const common = {
      DATABASE_URL: database.fresh.url,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      EXPECTED_REPLICAS: "2",
      QUOTA_MODE,
      CACHE_WARM_AT_START: "true",
      LOG_LEVEL: "error",
    };
    // A and B: overhead, saturation, concurrency, rate (usage to a topic of their own, straight to
    // Kafka). U: the usage case, Kafka only through the proxy.
    const [gwA, gwB, gwU] = await Promise.all([
      startGateway({
        ...common,
        KAFKA_BROKERS: kafkaBrokers,
        USAGE_TOPIC: mainTopic,
        USAGE_SPOOL_DIR: join(spool, "a"),
      }),
      startGateway({
        ...common,
        KAFKA_BROKERS: kafkaBrokers,
        USAGE_TOPIC: mainTopic,
        USAGE_SPOOL_DIR: join(spool, "b"),
      }),
      startGateway({
        ...common,
        KAFKA_BROKERS: proxy.address,
        KAFKA_BROKER_ADDRESS_MAP: `${advertised}=${proxy.address}`,
        USAGE_TOPIC: usageTopic,
        USAGE_SPOOL_DIR: join(spool, "u"),
      }),
    ]);
    gateways.push(gwA, gwB, gwU);
    for (const c of gateways) children.push(c.child);
    load = await LoadWorker.start();
    log(
      `started: upstream, 3 gateways, load worker (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );

    const direct: Target = {
      origin: upstream,
      path: `/v2/models/${fast.modelName}/versions/1/infer`,
      headers: { "content-type": "application/json" },
      body: inferBody,
    };
    const via = (origin: string, t: { modelName: string; key: string }): Target => ({
      origin,
      path: `/v2/models/${t.modelName}/infer`,
      headers: { "content-type": "application/json", authorization: `Bearer ${t.key}` },
      body: inferBody,
    });
    const run = async (job: Parameters<LoadWorker["run"]>[0]) =>
      (await (load as LoadWorker).run(job)) as LoadResult;

    // Warm both paths (pools, caches, JIT) in both gateways.
    await run({ kind: "closed", targets: [direct], connections: CONNECTIONS, seconds: 1 });
    await run({
      kind: "closed",
      targets: [via(gwA.origin, fast), via(gwB.origin, fast)],
      connections: CONNECTIONS,
      seconds: 2,
    });

    // Each case is its own section: one that fails (a broker hiccup, a crashed process) records
    // null figures and its error, and the others still run and are written.
    const f: Figures = emptyFigures();
    const errors: Record<string, string> = {};
    const section = async (name: string, fn: () => Promise<void>) => {
      if (!CASES.has(name)) return;
      try {
        await fn();
      } catch (err) {
        errors[name] = String(err);
        log(`${name}: FAILED ${String(err)}`);
      }
    };
    let directRps = Number.NaN;
    let gatewayRps = Number.NaN;
    let rate = Number.NaN;
    let issueRate = Number.NaN;

    // 1. Saturation, direct and through the gateway.
    await section("saturation", async () => {
      const directSat = await run({
        kind: "closed",
        targets: [direct],
        connections: CONNECTIONS,
        seconds: SECONDS,
      });
      directRps = (directSat.byStatus[200] ?? 0) / directSat.seconds;
      const gatewaySat = await run({
        kind: "closed",
        targets: [via(gwA.origin, fast)],
        connections: CONNECTIONS,
        seconds: SECONDS,
      });
      gatewayRps = (gatewaySat.byStatus[200] ?? 0) / gatewaySat.seconds;
      f.direct_saturation_rps = Math.round(directRps);
      f.gateway_saturation_rps = Math.round(gatewayRps);
      log(
        `saturation: direct ${Math.round(directRps)}/s, gateway ${Math.round(gatewayRps)}/s ${JSON.stringify(gatewaySat.byStatus)}`,
      );
    });

    // 2. Overhead at a fixed rate both paths sustain, interleaved rounds. The issue asks for half
    // the direct path's saturation; against this no-op upstream that is far beyond what one gateway
    // process takes on a small box (first run here: direct 18,256/s, gateway 1,054/s), and latency
    // past saturation is queueing, not overhead. So: half of the slower path's saturation (= the
    // issue's rate whenever the gateway can take it), recorded with the reason.
    await section("overhead", async () => {
      if (!Number.isFinite(gatewayRps) || gatewayRps <= 0) throw new Error("no saturation figures");
      issueRate = Math.max(1, Math.floor(directRps / 2));
      rate = Math.max(1, Math.floor(Math.min(directRps, gatewayRps) / 2));
      const directLat: number[] = [];
      const gatewayLat: number[] = [];
      let gatewayNon200 = 0;
      const gc = async () => ({
        majorCount: await gwA.metric("nodejs_gc_duration_seconds_count", { kind: "major" }),
        majorSeconds: await gwA.metric("nodejs_gc_duration_seconds_sum", { kind: "major" }),
        minorCount: await gwA.metric("nodejs_gc_duration_seconds_count", { kind: "minor" }),
        minorSeconds: await gwA.metric("nodejs_gc_duration_seconds_sum", { kind: "minor" }),
      });
      const gcBefore = await gc();
      const byRound: number[] = [];
      for (let r = 0; r < OVERHEAD_ROUNDS; r++) {
        directLat.push(
          ...(
            await run({
              kind: "rate",
              targets: [direct],
              rate,
              connections: CONNECTIONS,
              seconds: SECONDS,
              warmupSeconds: WARMUP_SECONDS,
            })
          ).latenciesMs,
        );
        const g = await run({
          kind: "rate",
          targets: [via(gwA.origin, fast)],
          rate,
          connections: CONNECTIONS,
          seconds: SECONDS,
          warmupSeconds: WARMUP_SECONDS,
        });
        gatewayLat.push(...g.latenciesMs);
        byRound.push(round3(percentiles(g.latenciesMs).p99));
        gatewayNon200 += g.sent - (g.byStatus[200] ?? 0);
      }
      // The gateway's GC over the rounds (warm-ups and the direct rounds included: it is idle then).
      const gcAfter = await gc();
      f.gateway_p99_by_round_ms = byRound;
      f.gateway_gc_major = gcAfter.majorCount - gcBefore.majorCount;
      f.gateway_gc_major_ms_total = round3((gcAfter.majorSeconds - gcBefore.majorSeconds) * 1000);
      f.gateway_gc_minor = gcAfter.minorCount - gcBefore.minorCount;
      f.gateway_gc_minor_ms_mean = round3(
        ((gcAfter.minorSeconds - gcBefore.minorSeconds) * 1000) /
          Math.max(1, gcAfter.minorCount - gcBefore.minorCount),
      );
      const d = percentiles(directLat);
      const g = percentiles(gatewayLat);
      f.overhead_p50_ms = round3(g.p50 - d.p50);
      f.overhead_p99_ms = round3(g.p99 - d.p99);
      f.direct_p50_ms = round3(d.p50);
      f.direct_p99_ms = round3(d.p99);
      f.gateway_p50_ms = round3(g.p50);
      f.gateway_p99_ms = round3(g.p99);
      f.gateway_non_200_at_fixed_rate = gatewayNon200;
      log(
        `overhead at ${rate}/s: direct p50 ${round3(d.p50)} p99 ${round3(d.p99)}, gateway p50 ${round3(g.p50)} p99 ${round3(g.p99)} (rounds ${byRound.join(" / ")}; gateway GC: ${f.gateway_gc_major} major, ${f.gateway_gc_minor} minor of ${f.gateway_gc_minor_ms_mean} ms)`,
      );
    });

    // 2b. The same overhead at the reference rate (comparable across runs; see REFERENCE_RATE).
    await section("overhead", async () => {
      const directLat: number[] = [];
      const gatewayLat: number[] = [];
      for (let r = 0; r < 2; r++) {
        for (const [target, into] of [
          [direct, directLat],
          [via(gwA.origin, fast), gatewayLat],
        ] as const) {
          const res = await run({
            kind: "rate",
            targets: [target],
            rate: REFERENCE_RATE,
            connections: CONNECTIONS,
            seconds: SECONDS,
            warmupSeconds: WARMUP_SECONDS,
          });
          into.push(...res.latenciesMs);
        }
      }
      const d = percentiles(directLat);
      const g = percentiles(gatewayLat);
      f.overhead_p50_ms_at_reference_rate = round3(g.p50 - d.p50);
      f.overhead_p99_ms_at_reference_rate = round3(g.p99 - d.p99);
      log(
        `overhead at the reference ${REFERENCE_RATE}/s: direct p50 ${round3(d.p50)} p99 ${round3(d.p99)}, gateway p50 ${round3(g.p50)} p99 ${round3(g.p99)}`,
      );
    });

    // 3. Concurrency through two gateways: 4× the limit in connections, upstream holds 20 ms.
    await section("concurrency", async () => {
      await upstreamStats(upstream, true);
      const conc = await run({
        kind: "closed",
        targets: [via(gwA.origin, slow), via(gwB.origin, slow)],
        connections: CONCURRENCY_LIMIT * 4,
        seconds: SECONDS,
      });
      const maxInflight = (await upstreamStats(upstream)).slow?.maxInflight ?? 0;
      f.max_inflight = maxInflight;
      f.max_inflight_minus_limit = maxInflight - CONCURRENCY_LIMIT;
      f.concurrency_statuses = conc.byStatus;
      log(
        `concurrency: max in flight ${maxInflight} for a limit of ${CONCURRENCY_LIMIT} ${JSON.stringify(conc.byStatus)}`,
      );
    });

    // 4. Rate accuracy: 2× the limit through two gateways.
    await section("rate", async () => {
      const rateRun = await run({
        kind: "rate",
        targets: [via(gwA.origin, limited), via(gwB.origin, limited)],
        rate: 2 * RATE_LIMIT_QPS,
        connections: 20,
        seconds: RATE_SECONDS,
      });
      const admittedQps = (rateRun.byStatus[200] ?? 0) / rateRun.seconds;
      f.rate_admitted_qps = round3(admittedQps);
      f.rate_admitted_error_pct = round3(((admittedQps - RATE_LIMIT_QPS) / RATE_LIMIT_QPS) * 100);
      // Decisions taken on local limits (Redis timed out): non-zero means the figure above is partly
      // the degraded policy's.
      f.rate_local_decisions =
        (await gwA.metric("quota_decisions_total", { path: "local" })) +
        (await gwB.metric("quota_decisions_total", { path: "local" }));
      log(
        `rate: admitted ${round3(admittedQps)}/s for ${RATE_LIMIT_QPS} (${f.rate_admitted_error_pct} %) ${JSON.stringify(rateRun.byStatus)}`,
      );
    });

    // 5. Quota decisions per second against Redis, the gateways' mode (and the other, for reference).
    await section("decisions", async () => {
      const job = { kind: "decisions", seconds: SECONDS, inflight: 256, redisUrl } as const;
      const decisions = (await (load as LoadWorker).run({ ...job, mode: QUOTA_MODE })) as DecisionsResult;
      const other = QUOTA_MODE === "pipeline" ? "script" : "pipeline";
      const decisionsOther = (await (load as LoadWorker).run({ ...job, mode: other })) as DecisionsResult;
      f.quota_decisions_per_s = decisions.decisions_per_s;
      f.quota_decisions_per_s_other_mode = decisionsOther.decisions_per_s;
      f.quota_round_trips_per_decision = decisions.round_trips_per_decision;
      log(
        `decisions: ${QUOTA_MODE} ${decisions.decisions_per_s}/s, ${other} ${decisionsOther.decisions_per_s}/s`,
      );
    });

    // 6. Usage: USAGE_REQUESTS through gateway U; Kafka cut off (proxy down) for a while in the middle.
    await section("usage", async () => {
      const usageJob = run({
        kind: "closed",
        targets: [via(gwU.origin, metered)],
        connections: CONNECTIONS,
        total: USAGE_REQUESTS,
      });
      const expectedSeconds = USAGE_REQUESTS / Math.max(50, Number.isFinite(gatewayRps) ? gatewayRps : 0);
      const downAfter = Math.max(1, expectedSeconds * 0.25);
      const downFor = Math.min(KAFKA_DOWN_SECONDS, Math.max(1, expectedSeconds * 0.4));
      let kafkaDownAt = 0;
      let kafkaUpAt = 0;
      const interruption = (async () => {
        await new Promise((r) => setTimeout(r, downAfter * 1000));
        await proxy?.down();
        kafkaDownAt = performance.now();
        log(`usage: Kafka unreachable (proxy down) for ${downFor.toFixed(1)} s`);
        await new Promise((r) => setTimeout(r, downFor * 1000));
        await proxy?.up();
        kafkaUpAt = performance.now();
        log("usage: Kafka reachable again");
      })();
      const usage = await usageJob;
      await interruption;
      const spooled = await gwU.metric("usage_events_total", { outcome: "spooled" });
      // Every answered request was forwarded (the tenant is unlimited): one event each.
      const sentOk = usage.byStatus[200] ?? 0;
      log(
        `usage: ${usage.sent} sent in ${usage.seconds.toFixed(1)} s ${JSON.stringify(usage.byStatus)}, ${spooled} spooled; waiting for the topic`,
      );
      // Done when the spool is empty and the topic holds at least one record per request; with
      // duplicates the count is reached early, so reread while events are missing (bounded).
      const waitDeadline = performance.now() + 90_000;
      const pending = async () =>
        (await gwU.metric("usage_spool_bytes")) > 0 || (await topicCount(kafkaBrokers, usageTopic)) < sentOk;
      while ((await pending()) && performance.now() < waitDeadline) {
        await new Promise((r) => setTimeout(r, 1_000));
      }
      let records = await readTopic(kafkaBrokers, usageTopic, 120_000);
      for (let i = 0; i < 5 && new Set(records.map((r) => r.id)).size < sentOk; i++) {
        await new Promise((r) => setTimeout(r, 3_000));
        records = await readTopic(kafkaBrokers, usageTopic, 120_000);
      }
      // Requests, not ids, are what must each have one event: a request id missing from the topic is
      // a lost event whatever the ids say, and an id carried by two request ids is a collision.
      const requests = new Set(records.map((r) => r.requestId)).size;
      const firstRequestOf = new Map<string, string | undefined>();
      let idCollisions = 0;
      for (const r of records) {
        if (!firstRequestOf.has(r.id)) firstRequestOf.set(r.id, r.requestId);
        else if (firstRequestOf.get(r.id) !== r.requestId) idCollisions++;
      }
      const distinct = firstRequestOf.size;
      f.usage_requests_on_topic = requests;
      f.usage_event_id_collisions = idCollisions;
      f.usage_events_missing = sentOk - distinct;
      f.usage_events_duplicated = records.length - distinct;
      f.usage_requests_ok = sentOk;
      f.usage_statuses = usage.byStatus;
      f.usage_events_spooled = spooled;
      f.usage_events_dropped = await gwU.metric("usage_events_total", { outcome: "dropped" });
      f.usage_kafka_down_seconds = round3((kafkaUpAt - kafkaDownAt) / 1000);
      f.usage_rps = Math.round(usage.sent / usage.seconds);
      log(
        `usage: ${records.length} records, ${distinct} distinct, ${requests} request ids, ${idCollisions} id collisions, missing ${f.usage_events_missing}, duplicated ${f.usage_events_duplicated}, dropped ${f.usage_events_dropped}`,
      );
    });

    const totalSeconds = (performance.now() - started) / 1000;
    const figures = f;
    const result = {
      name: "gateway",
      command: "pnpm exec tsx bench/gateway.ts",
      date: new Date().toISOString(),
      environment: {
        node: process.version,
        cpus: cpus().length,
        upstream:
          "bench/gateway-upstream.ts: minimal v2 HTTP server in its own process (fixed JSON answer; `slow*` models held 20 ms)",
        load_generator: `bench/gateway-load.ts --worker, its own process; fixed rates paced every ${TICK_MS} ms`,
        gateway_form:
          gatewayMain === ""
            ? "source: functions/gateway/src/main.ts through tsx"
            : "bundle: scripts/bundle output (esbuild), plain node main.js, as deployed",
        quota_mode: QUOTA_MODE,
        connections: CONNECTIONS,
        seconds_per_phase: SECONDS,
        warmup_seconds_before_each_fixed_rate_phase: WARMUP_SECONDS,
        overhead_rounds: OVERHEAD_ROUNDS,
        fixed_rate_rps: Number.isFinite(rate) ? rate : null,
        fixed_rate_rule:
          "half of min(direct, gateway) saturation; the issue's half-of-direct rate is issue_fixed_rate_rps (used when the gateway sustains it)",
        issue_fixed_rate_rps: Number.isFinite(issueRate) ? issueRate : null,
        reference_rate_rps: REFERENCE_RATE,
        rate_test_seconds: RATE_SECONDS,
        rate_limit_qps: RATE_LIMIT_QPS,
        concurrency_limit: CONCURRENCY_LIMIT,
        gateways_in_rate_and_concurrency_tests: 2,
        usage_requests: USAGE_REQUESTS,
        load_average_at_start: loadAtStart,
        load_average_at_end: loadavg().map((n) => Math.round(n * 100) / 100),
        total_seconds: Math.round(totalSeconds),
      },
      figures,
      ...(Object.keys(errors).length > 0 && { errors }),
      goals: {
        overhead_p50_ms: "<= 1",
        overhead_p99_ms: "<= 3",
        rate_admitted_error_pct: "within ±10",
        max_inflight_minus_limit: "<= 0",
        quota_decisions_per_s: ">= 20000",
        usage_events_missing: "0",
        usage_events_duplicated:
          "0 ideally; delivery is at-least-once: an event whose ack was lost when Kafka was cut is replayed from the spool (metering dedupes by event id)",
      },
    };
    const met = (v: number | null, ok: (n: number) => boolean) =>
      v === null ? "not measured" : ok(v) ? "yes" : "NO";
    const goalMet: Record<string, string> = {
      overhead_p50_ms: met(figures.overhead_p50_ms, (n) => n <= 1),
      overhead_p99_ms: met(figures.overhead_p99_ms, (n) => n <= 3),
      gateway_saturation_rps: met(figures.gateway_saturation_rps, () => true),
      rate_admitted_error_pct: met(figures.rate_admitted_error_pct, (n) => Math.abs(n) <= 10),
      max_inflight_minus_limit: met(figures.max_inflight_minus_limit, (n) => n <= 0),
      quota_decisions_per_s: met(figures.quota_decisions_per_s, (n) => n >= 20_000),
      usage_events_missing: met(figures.usage_events_missing, (n) => n === 0),
      usage_events_duplicated: met(figures.usage_events_duplicated, (n) => n === 0),
    };
    console.log(
      `\ngateway benchmark (${Math.round(totalSeconds)} s, load average ${loadAtStart.join(" / ")} at start)`,
    );
    console.table(
      Object.entries(goalMet).map(([figure, verdict]) => ({
        figure,
        value: figures[figure as keyof Figures],
        // The full goal text is in the JSON; the table keeps its head.
        goal: ((result.goals as Record<string, string>)[figure] ?? "(reported)").split(";")[0],
        met: verdict,
      })),
    );
    if (FULL_RUN) {
      await mkdir("bench/results", { recursive: true });
      await writeFile("bench/results/gateway.json", `${JSON.stringify(result, null, 2)}\n`);
      console.log("wrote bench/results/gateway.json");
    } else {
      console.log(`partial run (${[...CASES].join(",")}): bench/results/gateway.json not written`);
    }
    if (Object.keys(errors).length > 0) process.exitCode = 1;
  } finally {
    await load?.stop().catch(() => undefined);
    await Promise.all(gateways.map((gw) => gw.stop().catch(() => undefined)));
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await proxy?.down();
    await Promise.all([deleteTopic(kafkaBrokers, usageTopic), deleteTopic(kafkaBrokers, mainTopic)]).catch(
      () => undefined,
    );
    await database.close().catch(() => undefined);
    await rm(spool, { recursive: true, force: true });
  }
}

// Ctrl-C or a timeout's SIGTERM: stop the children and drop the database instead of leaking them.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the benchmark's processes`);
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    const timeout = new Promise((r) => setTimeout(r, 5_000));
    void Promise.race([cleanup?.().catch(() => undefined), timeout]).finally(() => process.exit(130));
  });
}

await main();
