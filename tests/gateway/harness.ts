// Shared pieces of the gateway's integration tests (and bench/gateway.ts): real gateway processes
// (functions/gateway/src/main.ts) on a fresh database, a counting upstream, a private redis-server,
// an interruptible TCP proxy in front of Kafka, and a reader of the usage topic.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer, type Server as NetServer, type Socket, connect as tcpConnect } from "node:net";
import { createKafka, createTopicsAndWait } from "@maas/events/kafka";
import { Redis } from "ioredis";
import { Pool } from "undici";

export {
  adminUrl,
  freshGatewayDb,
  kafkaBrokers,
  redisUrl,
  type SeededTenant,
  seedTenantWithModel,
} from "@maas/fn-gateway/testing";

const repoRoot = new URL("../../", import.meta.url).pathname;

export function uniqueId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
}

/** A Redis key prefix of its own for one test run (keys and the invalidation channel). */
export function uniqueRedisPrefix(name: string): string {
  return `test:gw:${name}:${uniqueId()}:`;
}

import { freePort } from "@maas/config";

export { freePort };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `read` returns something truthy, or throws after `timeoutMs`. */
export async function until<T>(read: () => Promise<T> | T, what: string, timeoutMs = 20_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Upstream: a v2 inference stand-in that measures how many requests it holds at once.

export interface CountingUpstream {
  url: string;
  /** Requests being served now / the most ever at once / all received. */
  inflight: number;
  maxInflight: number;
  received: number;
  /** Milliseconds each infer request is held (0: answer at once). */
  delayMs: number;
  /** When set, infer requests wait for this promise instead of `delayMs`. */
  hold: Promise<void> | undefined;
  reset(): void;
  close(): Promise<void>;
}

const inferAnswer = JSON.stringify({
  model_name: "m",
  model_version: "1",
  outputs: [{ name: "y", shape: [1, 4], datatype: "FP32", data: [0.1, 0.2, 0.3, 0.4] }],
});

/** An in-process upstream (tests). The bench runs bench/gateway-upstream.ts in its own process. */
export async function startCountingUpstream(delayMs = 0): Promise<CountingUpstream> {
  const state: CountingUpstream = {
    url: "",
    inflight: 0,
    maxInflight: 0,
    received: 0,
    delayMs,
    hold: undefined,
    reset() {
      state.maxInflight = state.inflight;
      state.received = 0;
    },
    close: async () => undefined,
  };
  const server: Server = createHttpServer((req, res) => {
    state.received++;
    if (req.method === "GET") {
      req.resume();
      const ready = req.url?.endsWith("/ready");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(ready ? "" : JSON.stringify({ name: "m", versions: ["1"], platform: "onnxruntime" }));
      return;
    }
    state.inflight++;
    state.maxInflight = Math.max(state.maxInflight, state.inflight);
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      state.inflight--;
    };
    res.on("close", end);
    req.resume();
    req.on("end", async () => {
      if (state.hold !== undefined) await state.hold;
      else if (state.delayMs > 0) await sleep(state.delayMs);
      if (res.destroyed) return end();
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(inferAnswer),
        "x-inference-compute-ms": "0.050",
      });
      end();
      res.end(inferAnswer);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  state.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}

// ---------------------------------------------------------------------------------------------
// Gateway processes.

export interface GatewayProcess {
  origin: string;
  child: ChildProcess;
  /** stderr so far (logs at LOG_LEVEL). */
  log(): string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown, no lease release. */
  kill(): Promise<void>;
  /** One sample of a metric from /metrics (sum over series matching `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

/**
 * Starts `functions/gateway/src/main.ts` as its own process and waits for /readyz. `env` overrides
 * the defaults (DATABASE_URL is required).
 */
export async function startGateway(env: Record<string, string>, timeoutMs = 60_000): Promise<GatewayProcess> {
  const port = await freePort();
  // GATEWAY_NODE_ARGS: extra node flags for profiling runs (e.g. `--cpu-prof --trace-gc`).
  const nodeArgs = (process.env.GATEWAY_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  // GATEWAY_MAIN: a built bundle's main.js (scripts/bundle/build.ts gateway), run by plain node as
  // deployed; unset, the sources through tsx.
  const entry =
    process.env.GATEWAY_MAIN !== undefined && process.env.GATEWAY_MAIN !== ""
      ? [process.env.GATEWAY_MAIN]
      : ["--import", "tsx", "functions/gateway/src/main.ts"];
  const child = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      CACHE_WARM_AT_START: "false",
      ...env,
    },
  });
  let stderr = "";
  // Logs (pino writes to stdout) kept for the failure message.
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
  }
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${stderr}`);
    try {
      if ((await fetch(`${origin}/readyz`)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`gateway did not become ready:\n${stderr}`);
    }
    await sleep(100);
  }
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return {
    origin,
    child,
    log: () => stderr,
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    async metric(name, labels = {}) {
      const text = await (await fetch(`${origin}/metrics`)).text();
      let sum = 0;
      for (const line of text.split("\n")) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (!m || m[1] !== name) continue;
        const set = m[2] ?? "";
        if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3]);
      }
      return sum;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Requests.

export const inferBody = JSON.stringify({
  inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
});

export interface Call {
  method?: "GET" | "POST";
  path: string;
  key: string;
  requestId?: string;
}

export async function call(
  origin: string,
  c: Call,
): Promise<{ status: number; body: string; headers: Headers }> {
  const method = c.method ?? "POST";
  const res = await fetch(origin + c.path, {
    method,
    headers: {
      authorization: `Bearer ${c.key}`,
      "content-type": "application/json",
      ...(c.requestId !== undefined && { "x-request-id": c.requestId }),
    },
    ...(method === "POST" && { body: inferBody }),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

export type StatusCounts = Record<string, number>;

/**
 * Sends `total` infer requests, `concurrency` at a time, over keep-alive pools spread across
 * `origins`; counts statuses (`error` for a transport failure).
 */
export async function burst(options: {
  origins: string[];
  path: string;
  key: string;
  total: number;
  concurrency: number;
  requestId?: (i: number) => string;
}): Promise<StatusCounts> {
  const pools = options.origins.map((o) => new Pool(o, { connections: options.concurrency }));
  const counts: StatusCounts = {};
  let next = 0;
  const worker = async () => {
    while (next < options.total) {
      const i = next++;
      const pool = pools[i % pools.length] as Pool;
      try {
        const res = await pool.request({
          method: "POST",
          path: options.path,
          headers: {
            authorization: `Bearer ${options.key}`,
            "content-type": "application/json",
            ...(options.requestId && { "x-request-id": options.requestId(i) }),
          },
          body: inferBody,
        });
        await res.body.dump();
        counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1;
      } catch {
        counts.error = (counts.error ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  await Promise.all(pools.map((p) => p.close()));
  return counts;
}

export function count5xx(counts: StatusCounts): number {
  return Object.entries(counts)
    .filter(([k]) => k === "error" || Number(k) >= 500)
    .reduce((n, [, v]) => n + v, 0);
}

// ---------------------------------------------------------------------------------------------
// A private redis-server (the shared one on 56379 is never stopped).

export interface RedisServerProcess {
  url: string;
  port: number;
  start(): Promise<void>;
  kill(): Promise<void>;
}

export function redisServer(port: number): RedisServerProcess {
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    port,
    async start() {
      child = spawn(
        "redis-server",
        ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        {
          stdio: "ignore",
        },
      );
      const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on("error", () => undefined);
      await until(
        async () => {
          try {
            if (probe.status !== "ready") await probe.connect();
            return (await probe.ping()) === "PONG";
          } catch {
            return false;
          }
        },
        `redis-server on ${port}`,
        10_000,
      );
      probe.disconnect();
    },
    async kill() {
      const c = child;
      if (c === undefined || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGKILL");
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// An interruptible TCP proxy (in front of the shared Kafka broker, which is never stopped).

export class TcpProxy {
  private server: NetServer | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = tcpConnect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((r) => server.listen(this.port, "127.0.0.1", r));
    this.server = server;
  }

  /** Refuses new connections and cuts the open ones (the broker looks gone). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise((r) => server.close(r));
  }
}

// ---------------------------------------------------------------------------------------------
// Kafka: a throwaway usage topic and its reader.

export async function createTopic(brokers: string, topic: string, partitions = 3): Promise<void> {
  const admin = createKafka({ brokers, clientId: "gw-test-admin" }).admin();
  await admin.connect();
  try {
    await createTopicsAndWait(admin, [{ topic, numPartitions: partitions }]);
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopic(brokers: string, topic: string): Promise<void> {
  const admin = createKafka({ brokers, clientId: "gw-test-admin" }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** The broker's advertised address (what clients dial after the bootstrap). */
export async function advertisedBroker(brokers: string): Promise<string> {
  const admin = createKafka({ brokers, clientId: "gw-test-admin" }).admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    const broker = cluster.brokers[0];
    if (!broker) throw new Error("no broker in the cluster");
    return `${broker.host}:${broker.port}`;
  } finally {
    await admin.disconnect();
  }
}

/** Sum of the topic's high watermarks: records written so far. */
export async function topicCount(brokers: string, topic: string): Promise<number> {
  const admin = createKafka({ brokers, clientId: "gw-test-admin" }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

export interface UsageRecord {
  id: string;
  partition: number;
  offset: bigint;
  requestId: string | undefined;
  tenantId: string | undefined;
}

/**
 * Reads a topic from the beginning (partition by partition, offsets from the admin API, no
 * committed offsets), returning every record's CloudEvent id (`ce_id` header) and data.requestId,
 * one entry per (partition, offset): kafkajs redelivers a stretch of messages when its group
 * rejoins (a fresh broker's "group coordinator is not available"), and a redelivery is not a
 * duplicate on the topic. Done when every offset between each partition's low and high watermark
 * has been seen, not when the last one has (a redelivered stretch can end past a gap).
 */
export async function readTopic(brokers: string, topic: string, timeoutMs = 60_000): Promise<UsageRecord[]> {
  const kafka = createKafka({ brokers, clientId: "gw-test-reader" });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const high = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  const total = offsets.reduce((n, o) => n + Number(BigInt(o.high) - BigInt(o.low)), 0);
  const byOffset = new Map<string, UsageRecord>();
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: `gw-test-reader-${uniqueId()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const offset = BigInt(message.offset);
      // Past the high watermark read at the start: written since, not part of this read.
      if (offset >= (high.get(partition) ?? 0n)) return;
      const key = `${partition}:${message.offset}`;
      if (byOffset.has(key)) return;
      const headers = message.headers ?? {};
      const id = headers.ce_id?.toString() ?? "";
      let data: { requestId?: string; tenantId?: string } = {};
      try {
        data = JSON.parse(message.value?.toString() ?? "{}") as typeof data;
      } catch {}
      byOffset.set(key, { id, partition, offset, requestId: data.requestId, tenantId: data.tenantId });
      // Only offsets in [low, high) are kept, so as many as that range holds means every one of them.
      if (byOffset.size >= total) resolveDone();
    },
  });
  await Promise.race([done, sleep(timeoutMs)]);
  await consumer.disconnect();
  return [...byOffset.values()];
}

/**
 * Open loop: `rate` requests per second for `seconds`, whatever the latency (no coordinated
 * omission), spread round-robin over `origins`; statuses counted.
 */
export async function fixedRate(options: {
  origins: string[];
  path: string;
  key: string;
  rate: number;
  seconds: number;
  connections?: number;
}): Promise<{ counts: StatusCounts; sent: number; seconds: number }> {
  const pools = options.origins.map((o) => new Pool(o, { connections: options.connections ?? 16 }));
  const counts: StatusCounts = {};
  const inflight = new Set<Promise<void>>();
  const total = Math.round(options.rate * options.seconds);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * options.rate) + 1);
    while (sent < due) {
      const pool = pools[sent % pools.length] as Pool;
      sent++;
      const p = pool
        .request({
          method: "POST",
          path: options.path,
          headers: { authorization: `Bearer ${options.key}`, "content-type": "application/json" },
          body: inferBody,
        })
        .then(async (res) => {
          await res.body.dump();
          counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1;
        })
        .catch(() => {
          counts.error = (counts.error ?? 0) + 1;
        });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await sleep(5);
  }
  const seconds = (performance.now() - start) / 1000;
  await Promise.all([...inflight]);
  await Promise.all(pools.map((p) => p.close()));
  return { counts, sent, seconds };
}
