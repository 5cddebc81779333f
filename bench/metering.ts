// Metering acceptance benchmark (issue 7), real Kafka, PostgreSQL and Redis; the metering consumer
// runs as a child process (`functions/metering/src/main.ts`, METERING_MODE=kafka) so it can be killed
// for real. `pnpm exec tsx bench/metering.ts` from the repo root; writes bench/results/metering.json.
//   1. ingest_events_per_s: BENCH_EVENTS (200,000) events, producer → Kafka → metering → Postgres.
//   2. chaos: BENCH_EVENTS events of which 10 % are redeliveries of others, consumer killed (SIGKILL)
//      and restarted twice and the broker restarted once during ingest → counted − unique.
//   3. Redis month-to-date counters vs Postgres, to the micro-unit.
//   4. monthly close run twice concurrently and then again: changes between runs; totals vs lines vs usage.
// Knobs: BENCH_EVENTS, BENCH_CHAOS=0 (throughput only), BENCH_PRODUCER=platformatic|kafkajs (the
// producer's Kafka client), BENCH_KAFKA_MODE=binary, BENCH_PRODUCER_BATCH, BENCH_CONSUMER_PROF=<dir>.
// Own topics, consumer groups, database and Redis prefix: nothing shared with other users of the infra.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createDb, createFreshDatabase, migrateToLatest, withSystem } from "@maas/db";
import { createKafka, createTopicsAndWait, KafkaPublisher, PlatformaticPublisher } from "@maas/events/kafka";
import { quotaKeys } from "@maas/quota";
import { Redis } from "ioredis";
import { closePeriods } from "../functions/billing/src/billing/close-period.js";
import {
  periodOfDate,
  periodStart,
  previousPeriod,
  seedUsageTenant,
  usageEvent,
} from "../functions/metering/src/usage/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);

const loadAtStart = Number(loadavg()[0]?.toFixed(1));
const CHAOS = process.env.BENCH_CHAOS !== "0";
const TOTAL = Number(process.env.BENCH_EVENTS ?? 200_000);
const TENANTS = 12;
const adminUrl = process.env.DATABASE_URL || "postgres://maas:maas@127.0.0.1:55432/maas";
const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:56379";
const brokers = process.env.KAFKA_BROKERS || "127.0.0.1:59092";
const tag = randomBytes(4).toString("hex");
const keyPrefix = `maas:bench-${tag}:`;
// BENCH_PRODUCER: the Kafka client the producer side uses. @platformatic/kafka by default: the same
// publisher contract at about a third of kafkajs's CPU per event (kafkajs's record-batch encoding
// dominated the pipeline's CPU); kafkajs for the comparison.
const PRODUCER_CLIENT = process.env.BENCH_PRODUCER ?? "platformatic";
if (PRODUCER_CLIENT !== "platformatic" && PRODUCER_CLIENT !== "kafkajs") {
  throw new Error(`BENCH_PRODUCER=${PRODUCER_CLIENT}: expected kafkajs or platformatic`);
}

const fresh = await createFreshDatabase(adminUrl, { prefix: "maas_bench" });
const { db, close } = createDb({ url: fresh.url, poolMax: 4 });
await migrateToLatest(db);
const redis = new Redis(redisUrl);
const kafka = createKafka({ brokers, clientId: `bench-metering-${tag}` });
type BenchPublisher = KafkaPublisher | PlatformaticPublisher;
function publisherFor(
  topic: string,
  options: { maxBatchSize: number; lingerMs: number; mode?: "binary" | "structured" },
): BenchPublisher {
  return PRODUCER_CLIENT === "kafkajs"
    ? new KafkaPublisher({ kafka, topic, ...options })
    : new PlatformaticPublisher({ brokers, clientId: `bench-metering-${tag}`, topic, ...options });
}
const topics = {
  fast: `bench.usage.${tag}.fast`,
  chaos: `bench.usage.${tag}.chaos`,
  drain: `bench.usage.${tag}.drain`,
  events: `bench.events.${tag}`,
};
const admin = kafka.admin();
await admin.connect();
await createTopicsAndWait(
  admin,
  Object.values(topics).map((topic) => ({ topic, numPartitions: 12, replicationFactor: 1 })),
);
await admin.disconnect();

// Usage of the previous month, so the monthly close can invoice it at the end.
const now = new Date();
const billed = previousPeriod(periodOfDate(now));
const startMs = periodStart(billed).getTime();
const startedAt = (i: number) => new Date(startMs + ((i * 7919) % (27 * 86_400_000))).toISOString();

type Tenant = Awaited<ReturnType<typeof seedUsageTenant>>;
async function seed(n: number, label: string): Promise<Tenant[]> {
  const out: Tenant[] = [];
  for (let i = 0; i < n; i++)
    out.push(await seedUsageTenant(db, { slug: `${label}-${i}`, device: i % 3 === 0 ? "gpu" : "cpu" }));
  return out;
}

const restartable = new Set<ChildProcess>();
let current: ChildProcess | undefined;
let restarts = 0;
let port = 40_000 + Math.floor(Math.random() * 10_000);
function startConsumer(topic: string, group: string): ChildProcess {
  port++;
  // BENCH_CONSUMER_PROF=<dir>: a V8 CPU profile of each metering process (written at its exit).
  const prof = process.env.BENCH_CONSUMER_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CONSUMER_PROF}`]
    : [];
  const child = spawn(process.execPath, [...prof, "--import", "tsx", "functions/metering/src/main.ts"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "error",
      DATABASE_URL: fresh.url,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      KAFKA_BROKERS: brokers,
      METERING_MODE: "kafka",
      METERING_TOPIC: topic,
      METERING_GROUP: group,
      METERING_CONCURRENCY: "4",
      METERING_RECONCILE_S: "0",
      EVENTS_TOPIC: topics.events,
    },
  });
  // What Kubernetes would do: a consumer that exits on its own (not killed by us) is started again.
  child.once("exit", (code, signal) => {
    if (signal === null && code !== 0 && restartable.has(child)) {
      restartable.delete(child);
      current = startConsumer(topic, group);
      restarts++;
    }
  });
  restartable.add(child);
  current = child;
  return child;
}

async function waitReady(p: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${p}/readyz`)).ok) return;
    } catch {}
    await sleep(100);
  }
  throw new Error("metering child never became ready");
}

async function counted(tenants: Tenant[]): Promise<number> {
  const ids = tenants.map((t) => t.tenantId);
  const row = await withSystem(db, (trx) =>
    trx
      .selectFrom("usage_events")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("tenant_id", "in", ids)
      .executeTakeFirstOrThrow(),
  );
  return Number(row.n);
}

async function publishAll(publisher: BenchPublisher, evs: Parameters<BenchPublisher["publish"]>[0]) {
  // A failed send (broker restarting) is sent again: more redeliveries, which metering must absorb.
  for (let attempt = 1; ; attempt++) {
    try {
      await publisher.publish(evs);
      return attempt - 1;
    } catch {
      await sleep(500);
    }
  }
}

function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  restartable.delete(child);
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

// ---- CPU accounting ------------------------------------------------------------------------------
// Wall-clock rates on a shared 2-core machine swing with everyone else's load; CPU time per event of
// each stage does not, and 2 cores divided by the total gives the pipeline's ceiling on this machine.
const TICK_US = 10_000; // /proc/<pid>/stat counts USER_HZ = 100 ticks per second
async function procCpuUs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return undefined;
  }
}
async function brokerPid(): Promise<number | undefined> {
  const brokerPort = brokers.split(",")[0]?.split(":").at(-1) ?? "59092";
  try {
    const { stdout } = await run("ss", ["-ltnpH", `sport = :${brokerPort}`]);
    const m = /pid=(\d+)/.exec(stdout);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
/** CPU microseconds used by a set of processes between start() and stop(); Postgres backends are polled. */
class CpuMeter {
  readonly #first = new Map<string, number>();
  readonly #last = new Map<string, number>();
  readonly #pids = new Map<string, number>();
  #self: NodeJS.CpuUsage | undefined;
  #selfUs = 0;
  #loads: number[] = [];
  async track(label: string, pid: number | undefined): Promise<void> {
    if (pid === undefined) return;
    const key = `${label}:${pid}`;
    if (this.#pids.has(key)) return;
    const us = await procCpuUs(pid);
    if (us === undefined) return;
    this.#pids.set(key, pid);
    this.#first.set(key, us);
    this.#last.set(key, us);
  }
  async start(children: Record<string, number | undefined>): Promise<void> {
    this.#self = process.cpuUsage();
    for (const [label, pid] of Object.entries(children)) await this.track(label, pid);
    await this.poll();
  }
  /** Picks up metering's database backends (they come and go with its pool) and samples everyone. */
  async poll(): Promise<void> {
    this.#loads.push(loadavg()[0] ?? 0);
    const backends = await withSystem(db, (trx) =>
      trx
        .selectFrom("pg_stat_activity" as never)
        .select(["pid" as never])
        .where("datname" as never, "=", fresh.name as never)
        .execute(),
    );
    for (const b of backends as { pid: number }[]) await this.track("postgres", b.pid);
    for (const [key, pid] of this.#pids) {
      const us = await procCpuUs(pid);
      if (us !== undefined) this.#last.set(key, us);
    }
  }
  async stop(): Promise<void> {
    await this.poll();
    const u = process.cpuUsage(this.#self);
    this.#selfUs = u.user + u.system;
  }
  /** µs of CPU per event by stage ("producer" is this process: encoding, kafkajs, the polling queries). */
  perEvent(events: number): Record<string, number> {
    const by: Record<string, number> = { producer: this.#selfUs };
    for (const [key, first] of this.#first) {
      const label = key.split(":")[0] as string;
      by[label] = (by[label] ?? 0) + ((this.#last.get(key) ?? first) - first);
    }
    const out: Record<string, number> = {};
    let total = 0;
    for (const [label, us] of Object.entries(by)) {
      out[label] = Number((us / events).toFixed(1));
      total += us / events;
    }
    out.total = Number(total.toFixed(1));
    return out;
  }
  loadAverage(): { min: number; max: number; mean: number } {
    const l = this.#loads;
    const mean = l.reduce((a, b) => a + b, 0) / Math.max(1, l.length);
    return {
      min: Number(Math.min(...l).toFixed(2)),
      max: Number(Math.max(...l).toFixed(2)),
      mean: Number(mean.toFixed(2)),
    };
  }
}

// What the producer does per send; the gateway's KafkaPublisher takes the same options.
const producerOptions = {
  maxBatchSize: Number(process.env.BENCH_PRODUCER_BATCH ?? 5_000),
  lingerMs: 2,
  // Structured by default: one header instead of seven costs the producer less CPU per event (both
  // clients encode every header separately: kafkajs ~25 % less, @platformatic/kafka ~40 % less);
  // BENCH_KAFKA_MODE=binary for the other.
  mode: (process.env.BENCH_KAFKA_MODE === "binary" ? "binary" : "structured") as "binary" | "structured",
};

// ---- 1. throughput -------------------------------------------------------------------------------
const fastTenants = await seed(TENANTS, `fast-${tag}`);
const fastEvents = Array.from({ length: TOTAL }, (_, i) =>
  usageEvent(fastTenants[i % TENANTS] as Tenant, { startedAt: startedAt(i), durationMs: 5 + (i % 40) }),
);
let child = startConsumer(topics.fast, `bench-fast-${tag}`);
await waitReady(port);
const fastPublisher = publisherFor(topics.fast, producerOptions);
await fastPublisher.connect();
const broker = await brokerPid();
const fastMeter = new CpuMeter();
await fastMeter.start({ consumer: child.pid, broker });
const fastPoll = setInterval(() => void fastMeter.poll().catch(() => undefined), 250);
const t0 = performance.now();
const chunk = 10_000;
const sends: Promise<number>[] = [];
for (let i = 0; i < TOTAL; i += chunk) sends.push(publishAll(fastPublisher, fastEvents.slice(i, i + chunk)));
await Promise.all(sends);
const tProduced = performance.now();
while ((await counted(fastTenants)) < TOTAL) await sleep(100);
const t1 = performance.now();
clearInterval(fastPoll);
await fastMeter.stop();
const fastCpu = fastMeter.perEvent(TOTAL);
console.log("throughput CPU µs per event:", fastCpu, "load average (1 min):", fastMeter.loadAverage());
const ingestPerS = Math.round(TOTAL / ((t1 - t0) / 1000));
const producePerS = Math.round(TOTAL / ((tProduced - t0) / 1000));
console.log(
  `throughput: ${TOTAL} events end to end in ${((t1 - t0) / 1000).toFixed(2)} s = ${ingestPerS}/s (producer alone ${producePerS}/s)`,
);
await kill(child, "SIGTERM");

// 1b. The consumer alone: the same volume waiting in Kafka, then metering started and timed to drain
// it (group join included). Separates metering's capacity from the producer's on a shared machine.
const drainTenants = await seed(TENANTS, `drain-${tag}`);
const drainEvents = Array.from({ length: TOTAL }, (_, i) =>
  usageEvent(drainTenants[i % TENANTS] as Tenant, { startedAt: startedAt(i), durationMs: 5 + (i % 40) }),
);
const drainPublisher = publisherFor(topics.drain, producerOptions);
await Promise.all(
  Array.from({ length: Math.ceil(TOTAL / chunk) }, (_, k) =>
    publishAll(drainPublisher, drainEvents.slice(k * chunk, (k + 1) * chunk)),
  ),
);
await drainPublisher.close();
const drainMeter = new CpuMeter();
await drainMeter.start({ broker });
const td0 = performance.now();
child = startConsumer(topics.drain, `bench-drain-${tag}`);
// From spawn: process start, module loading and the group join are part of the drain's cost.
await drainMeter.track("consumer", child.pid);
const drainPoll = setInterval(() => void drainMeter.poll().catch(() => undefined), 250);
while ((await counted(drainTenants)) < TOTAL) await sleep(100);
const td1 = performance.now();
clearInterval(drainPoll);
await drainMeter.stop();
const drainCpu = drainMeter.perEvent(TOTAL);
console.log("drain CPU µs per event:", drainCpu, "load average (1 min):", drainMeter.loadAverage());
const drainPerS = Math.round(TOTAL / ((td1 - td0) / 1000));
console.log(
  `drain: ${TOTAL} backlog events metered in ${((td1 - td0) / 1000).toFixed(2)} s = ${drainPerS}/s (process start included)`,
);
await kill(child, "SIGTERM");
await fastPublisher.close();

if (!CHAOS) {
  // BENCH_CHAOS=0: throughput only, while iterating (the chaos phase restarts the shared broker).
  console.log(
    JSON.stringify({
      producer_client: PRODUCER_CLIENT,
      ingestPerS,
      producePerS,
      drainPerS,
      fastCpu,
      drainCpu,
      loadThroughput: fastMeter.loadAverage(),
      loadDrain: drainMeter.loadAverage(),
      loadAtStart,
    }),
  );
  const a = kafka.admin();
  await a.connect();
  await a.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await a.disconnect();
  redis.disconnect();
  await close();
  await fresh.drop();
  process.exit(0);
}

// ---- 2. chaos ------------------------------------------------------------------------------------
const chaosTenants = await seed(TENANTS, `chaos-${tag}`);
const unique = Math.round(TOTAL / 1.1);
const uniques = Array.from({ length: unique }, (_, i) =>
  usageEvent(chaosTenants[i % TENANTS] as Tenant, { startedAt: startedAt(i), durationMs: 3 + (i % 57) }),
);
// 10 % deliberate duplicates: the same CloudEvent (source + id) again, anywhere in the stream.
const stream = [...uniques];
for (let i = 0; stream.length < TOTAL; i++)
  stream.push(uniques[(i * 7_3331) % unique] as (typeof uniques)[number]);
for (let i = stream.length - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [stream[i], stream[j]] = [stream[j] as (typeof stream)[number], stream[i] as (typeof stream)[number]];
}
const group = `bench-chaos-${tag}`;
child = startConsumer(topics.chaos, group);
await waitReady(port);
const chaosPublisher = publisherFor(topics.chaos, { maxBatchSize: 2_000, lingerMs: 2 });
const chaosChunk = Math.ceil(TOTAL / 20);
const chaosLog: string[] = [];
let resent = 0;
let brokerRestart: Promise<void> | undefined;
const tc0 = performance.now();
for (let c = 0; c < 20; c++) {
  if (c === 5 || c === 12) {
    await kill(current ?? child, "SIGKILL");
    chaosLog.push(`chunk ${c}: consumer SIGKILLed at ${await counted(chaosTenants)} rows; restarted`);
    child = startConsumer(topics.chaos, group);
  }
  if (c === 8) {
    chaosLog.push(`chunk ${c}: broker restart begins at ${await counted(chaosTenants)} rows`);
    const t = performance.now();
    brokerRestart = (async () => {
      await run("bash", ["scripts/infra/kafka.sh", "down"], { cwd: root });
      await run("bash", ["scripts/infra/kafka.sh", "up"], { cwd: root });
      chaosLog.push(`broker back after ${((performance.now() - t) / 1000).toFixed(1)} s`);
    })();
  }
  resent += await publishAll(chaosPublisher, stream.slice(c * chaosChunk, (c + 1) * chaosChunk));
  await sleep(150);
}
await brokerRestart;
let last = -1;
let stableSince = performance.now();
for (;;) {
  const n = await counted(chaosTenants);
  if (n !== last) {
    last = n;
    stableSince = performance.now();
  }
  if (n >= unique && performance.now() - stableSince > 5_000) break;
  if (performance.now() - stableSince > 120_000) break;
  await sleep(250);
}
const chaosCounted = last;
const tc1 = performance.now();
console.log(chaosLog.join("\n"));
console.log(
  `chaos: ${TOTAL} published (+${resent} batch resends), ${unique} unique, ${chaosCounted} counted`,
);
await chaosPublisher.close();

// Rollups must agree with the rows (only newly inserted rows are rolled up).
const allTenants = [...fastTenants, ...drainTenants, ...chaosTenants];
const ids = allTenants.map((t) => t.tenantId);
const rollup = await withSystem(db, async (trx) => {
  const hourly = await trx
    .selectFrom("usage_hourly")
    .select((eb) => [eb.fn.sum<string>("requests").as("n"), eb.fn.sum<string>("cost_micros").as("cost")])
    .where("tenant_id", "in", ids)
    .executeTakeFirstOrThrow();
  const rows = await trx
    .selectFrom("usage_events")
    .select((eb) => [eb.fn.countAll<string>().as("n"), eb.fn.sum<string>("cost_micros").as("cost")])
    .where("tenant_id", "in", ids)
    .executeTakeFirstOrThrow();
  return { requests: Number(hourly.n) - Number(rows.n), cost: BigInt(hourly.cost) - BigInt(rows.cost) };
});

// ---- 3. Redis vs Postgres ------------------------------------------------------------------------
await kill(current ?? child, "SIGTERM");
const keys = quotaKeys(keyPrefix);
let spendDiff = 0n;
for (const t of allTenants) {
  const pg = await withSystem(db, (trx) =>
    trx
      .selectFrom("usage_events")
      .select((eb) => eb.fn.sum<string>("cost_micros").as("cost"))
      .where("tenant_id", "=", t.tenantId)
      .where("period", "=", billed)
      .executeTakeFirstOrThrow(),
  );
  const r = BigInt((await redis.get(keys.spend(t.tenantId, billed))) ?? "0");
  const d = r - BigInt(pg.cost ?? "0");
  spendDiff += d < 0n ? -d : d;
}

// ---- 4. monthly close, twice concurrently, then again ---------------------------------------------
const snapshot = async () =>
  withSystem(db, async (trx) => {
    const inv = await trx.selectFrom("invoices").selectAll().orderBy("id").execute();
    const lines = await trx.selectFrom("invoice_lines").selectAll().orderBy("id").execute();
    const outbox = await trx.selectFrom("outbox").select("event_id").orderBy("id").execute();
    const j = (o: unknown) => JSON.stringify(o, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    return new Set([...inv.map(j), ...lines.map(j), ...outbox.map(j)]);
  });
const [c1, c2] = await Promise.all([
  closePeriods({ db, clock: () => now }),
  closePeriods({ db, clock: () => now }),
]);
const first = await snapshot();
const rerun = await closePeriods({ db, clock: () => now });
const second = await snapshot();
const changes =
  [...first].filter((x) => !second.has(x)).length + [...second].filter((x) => !first.has(x)).length;
const created = [...c1, ...c2, ...rerun].filter((c) => c.created).length;
const mismatch = await withSystem(db, async (trx) => {
  const inv = await trx
    .selectFrom("invoices")
    .select(["id", "tenant_id", "period", "total_micros"])
    .execute();
  let off = 0n;
  for (const i of inv) {
    const lines = await trx
      .selectFrom("invoice_lines")
      .select((eb) => eb.fn.sum<string>("amount_micros").as("s"))
      .where("invoice_id", "=", i.id)
      .executeTakeFirstOrThrow();
    const usage = await trx
      .selectFrom("usage_events")
      .select((eb) => eb.fn.sum<string>("cost_micros").as("s"))
      .where("tenant_id", "=", i.tenant_id)
      .where("period", "=", i.period)
      .executeTakeFirstOrThrow();
    const a = i.total_micros - BigInt(lines.s ?? "0");
    const b = i.total_micros - BigInt(usage.s ?? "0");
    off += (a < 0n ? -a : a) + (b < 0n ? -b : b);
  }
  return { invoices: inv.length, off };
});

const figures = {
  events: TOTAL,
  ingest_events_per_s: ingestPerS,
  producer_events_per_s: producePerS,
  backlog_drain_events_per_s: drainPerS,
  load_average_1m_at_start: loadAtStart,
  load_average_1m_during_throughput: fastMeter.loadAverage(),
  load_average_1m_during_drain: drainMeter.loadAverage(),
  cpu_us_per_event_end_to_end: fastCpu,
  cpu_us_per_event_drain: drainCpu,
  // Both cores busy with nothing but this pipeline: the most it can do on this machine.
  cpu_ceiling_events_per_s_2_cores: Math.round(2e6 / (fastCpu.total ?? 1)),
  producer_client: PRODUCER_CLIENT,
  producer_mode: producerOptions.mode,
  producer_batch: producerOptions.maxBatchSize,
  ingest_seconds: Number(((t1 - t0) / 1000).toFixed(2)),
  chaos_published: TOTAL,
  chaos_unique: unique,
  chaos_counted: chaosCounted,
  chaos_usage_diff: chaosCounted - unique,
  chaos_seconds: Number(((tc1 - tc0) / 1000).toFixed(1)),
  chaos_batch_resends: resent,
  chaos_self_restarts: restarts,
  chaos_log: chaosLog,
  rollup_vs_rows_request_diff: rollup.requests,
  rollup_vs_rows_cost_diff_micros: Number(rollup.cost),
  redis_vs_postgres_spend_diff: Number(spendDiff),
  invoices: mismatch.invoices,
  invoices_created_over_three_closes: created,
  invoice_rerun_changes: changes,
  invoice_total_vs_lines_vs_usage_diff_micros: Number(mismatch.off),
};
const result = {
  name: "metering",
  command: "pnpm exec tsx bench/metering.ts",
  date: new Date().toISOString(),
  figures,
  goals: {
    ingest_events_per_s: ">= 20000",
    chaos_usage_diff: "= 0",
    redis_vs_postgres_spend_diff: "= 0",
    invoice_rerun_changes: "= 0",
  },
};
console.log(JSON.stringify(result, null, 2));
if (!process.env.BENCH_NO_WRITE) {
  await mkdir(join(here, "results"), { recursive: true });
  await writeFile(join(here, "results", "metering.json"), `${JSON.stringify(result, null, 2)}\n`);
}

const cleanupAdmin = kafka.admin();
await cleanupAdmin.connect();
await cleanupAdmin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
await cleanupAdmin.disconnect();
const stale = await redis.keys(`${keyPrefix}*`);
if (stale.length > 0) await redis.del(...stale);
redis.disconnect();
await close();
await fresh.drop();
