// Gateway acceptance benchmark (issue 6): overhead of client→gateway→upstream over client→upstream at
// half the direct path's saturation (50 connections, all quota checks on: auth, route, decide,
// release, usage to Kafka), the gateway's saturation throughput, and rate accuracy with two gateway
// processes sharing one tenant's limit. The upstream is bench/gateway-upstream.ts, a minimal v2
// server (answers at once), so the figures are the gateway's own cost.
// Run: pnpm exec tsx bench/gateway.ts   → bench/results/gateway.json
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  freshGatewayDb,
  kafkaBrokers,
  redisUrl,
  seedTenantWithModel,
} from "../functions/gateway/src/testing/seed.js";
import { closedLoop, fixedRate, percentiles, type Target } from "./gateway-load.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 30);
const CONNECTIONS = 50;
const RATE_LIMIT_QPS = 50;
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise((r) => server.close(r));
  return port;
}

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

async function startGateway(databaseUrl: string, spoolDir: string): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "functions/gateway/src/main.ts"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      KAFKA_BROKERS: kafkaBrokers,
      USAGE_SPOOL_DIR: spoolDir,
      EXPECTED_REPLICAS: "2",
    },
  });
  children.push(child);
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${origin}/readyz`)).status === 200) return origin;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("gateway did not become ready");
}

const inferBody = JSON.stringify({
  inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
});

async function main() {
  const loadAtStart = loadavg().map((n) => Math.round(n * 100) / 100);
  const database = await freshGatewayDb();
  const spool = await mkdtemp(join(tmpdir(), "gw-spool-"));
  try {
    const upstream = await startUpstream();
    const fast = await seedTenantWithModel(database.db, {
      url: upstream,
      quotas: { max_qps: 1_000_000, max_concurrency: 10_000, monthly_budget_micros: 1e15 },
    });
    const limited = await seedTenantWithModel(database.db, {
      url: upstream,
      quotas: { max_qps: RATE_LIMIT_QPS, max_concurrency: 10_000, monthly_budget_micros: 1e15 },
    });
    const gwA = await startGateway(database.fresh.url, join(spool, "a"));
    const gwB = await startGateway(database.fresh.url, join(spool, "b"));

    const direct: Target = {
      origin: upstream,
      path: `/v2/models/${fast.modelName}/versions/1/infer`,
      headers: { "content-type": "application/json" },
      body: inferBody,
    };
    const viaGateway = (origin: string, t = fast): Target => ({
      origin,
      path: `/v2/models/${t.modelName}/infer`,
      headers: { "content-type": "application/json", authorization: `Bearer ${t.key}` },
      body: inferBody,
    });

    // Warm both paths (pools, caches, JIT).
    await closedLoop(direct, CONNECTIONS, 1);
    await closedLoop(viaGateway(gwA), CONNECTIONS, 2);

    const directSat = await closedLoop(direct, CONNECTIONS, SECONDS);
    const directRps = (directSat.byStatus[200] ?? 0) / directSat.seconds;
    const gatewaySat = await closedLoop(viaGateway(gwA), CONNECTIONS, SECONDS);
    const gatewayRps = (gatewaySat.byStatus[200] ?? 0) / gatewaySat.seconds;
    console.log({ directRps, gatewayRps, gatewayStatuses: gatewaySat.byStatus, errors: gatewaySat.errors });

    // Overhead at a fixed rate of half the direct saturation, phases interleaved to share the noise.
    const rate = Math.floor(directRps / 2);
    const directLat: number[] = [];
    const gatewayLat: number[] = [];
    let gatewayNon200 = 0;
    for (let round = 0; round < 2; round++) {
      directLat.push(...(await fixedRate(direct, rate, CONNECTIONS, SECONDS)).latenciesMs);
      const g = await fixedRate(viaGateway(gwA), rate, CONNECTIONS, SECONDS);
      gatewayLat.push(...g.latenciesMs);
      gatewayNon200 += g.sent - (g.byStatus[200] ?? 0);
    }
    const d = percentiles(directLat);
    const g = percentiles(gatewayLat);
    console.log({ rate, direct: d, gateway: g, gatewayNon200 });

    // Rate accuracy: 2× the limit for RATE_SECONDS, split over two gateways sharing the limit in Redis.
    const [ra, rb] = await Promise.all([
      fixedRate(viaGateway(gwA, limited), RATE_LIMIT_QPS, 10, RATE_SECONDS),
      fixedRate(viaGateway(gwB, limited), RATE_LIMIT_QPS, 10, RATE_SECONDS),
    ]);
    const admitted = (ra.byStatus[200] ?? 0) + (rb.byStatus[200] ?? 0);
    const admittedQps = admitted / Math.max(ra.seconds, rb.seconds);
    const rateError = ((admittedQps - RATE_LIMIT_QPS) / RATE_LIMIT_QPS) * 100;
    console.log({ admittedQps, rateError, a: ra.byStatus, b: rb.byStatus });

    const quota = JSON.parse(await readFile("bench/results/quota.json", "utf8")) as {
      figures: { quota_decisions_per_s: number };
    };
    const round2 = (n: number) => Math.round(n * 1000) / 1000;
    const result = {
      name: "gateway",
      command: "pnpm exec tsx bench/gateway.ts",
      date: new Date().toISOString(),
      environment: {
        node: process.version,
        upstream:
          "bench/gateway-upstream.ts: minimal v2 HTTP server (fixed JSON answer), not the inference function",
        connections: CONNECTIONS,
        seconds_per_phase: SECONDS,
        fixed_rate_rps: rate,
        rate_test_seconds: RATE_SECONDS,
        rate_limit_qps: RATE_LIMIT_QPS,
        gateways_in_rate_test: 2,
        load_average_at_start: loadAtStart,
        quota_decisions_per_s_source: "copied from bench/results/quota.json",
      },
      figures: {
        overhead_p50_ms: round2(g.p50 - d.p50),
        overhead_p99_ms: round2(g.p99 - d.p99),
        direct_p50_ms: round2(d.p50),
        direct_p99_ms: round2(d.p99),
        gateway_p50_ms: round2(g.p50),
        gateway_p99_ms: round2(g.p99),
        gateway_non_200_at_fixed_rate: gatewayNon200,
        direct_saturation_rps: Math.round(directRps),
        gateway_saturation_rps: Math.round(gatewayRps),
        rate_admitted_qps: round2(admittedQps),
        rate_admitted_error_pct: round2(rateError),
        max_inflight_minus_limit: null,
        quota_decisions_per_s: quota.figures.quota_decisions_per_s,
        usage_events_missing: null,
        usage_events_duplicated: null,
      },
      goals: {
        overhead_p50_ms: "<= 1",
        overhead_p99_ms: "<= 3",
        rate_admitted_error_pct: "within ±10",
        max_inflight_minus_limit: "<= 0 (not measured by this run)",
        quota_decisions_per_s: ">= 20000",
        usage_events_missing: "0 (not measured by this run)",
        usage_events_duplicated: "0 (not measured by this run)",
      },
    };
    console.log(result.figures);
    await mkdir("bench/results", { recursive: true });
    await writeFile("bench/results/gateway.json", `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    await database.close();
    await rm(spool, { recursive: true, force: true });
  }
}

await main();
