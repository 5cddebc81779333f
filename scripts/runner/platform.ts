import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@maas/config";
import { createDb, migrateToLatest } from "@maas/db";
import {
  type DeliverOptions,
  type DeliveryOutcome,
  type DeliveryPolicy,
  type Destination,
  Dispatcher,
  deliverWithRetry,
  EmbeddedEventLog,
  type EventLog,
  KafkaEventLog,
  parseDeliverySpec,
  startBrokerIngress,
} from "@maas/delivery";
import { getDefinition, type MaasEvent, postEvent } from "@maas/events";
import { createKafka } from "@maas/events/kafka";
import { OutboxRelay } from "@maas/events/outbox";
import { type ApiServer, createManifestValidator, startApiServer } from "@maas/k8s";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres.js";
import { FunctionProcess } from "./function-process.js";
import { loadKustomization } from "./manifests.js";
import { PingScheduler } from "./ping-scheduler.js";
import { localSecretsKey } from "./secrets-key.js";
import { LocalKnative, type LocalKnativeOptions } from "./serving/local-knative.js";
import { buildTopology, type Topology } from "./topology.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface PlatformOptions {
  /** A kustomization folder; default `knative/base`. */
  knativeDir?: string;
  /** Where function folders and `.local/` live; default the repository root. */
  root?: string;
  /** The switches: DATABASE_URL, KAFKA_BROKERS, REDIS_URL, S3_ENDPOINT, PORT_BASE. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The ingress listens here, functions on portBase+1… (default PORT_BASE or 8100). 0 = any free ports. */
  portBase?: number;
  host?: string;
  /** Embedded state: PGlite data and objects (default `<root>/.local`). */
  dataDir?: string;
  /** Keep embedded Postgres in memory instead of `<dataDir>/pgdata`. */
  ephemeral?: boolean;
  /** Renames topics and consumer groups (tests isolate reruns with a suffix). */
  mapTopic?: (topic: string) => string;
  mapGroup?: (group: string) => string;
  /** Start the PingSource crons (default true); `fire()` works either way. */
  schedulePings?: boolean;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Function output and runner notices; default process.stdout / stderr. */
  onLine?: (name: string, line: string) => void;
  onOutcome?: (dispatcher: string, event: MaasEvent, outcome: DeliveryOutcome) => void;
  /** Extra environment for every function (after the manifest's env). */
  childEnv?: Record<string, string>;
  /** Injected sleep/clock for delivery retries (tests). */
  deliver?: Pick<DeliverOptions, "sleep" | "now">;
  /**
   * The local Knative control plane (a Kubernetes API server the deployer applies Services to, each
   * run with scale to zero behind an activator): its knobs, or false for none. Default on.
   */
  /**
   * Services that are templates the deployer renders per model (DESIGN §7), not run as such: their
   * per-model copies run on demand through the local Knative. Default ["inference"].
   */
  templates?: readonly string[];
  serving?: Partial<Omit<LocalKnativeOptions, "root" | "host" | "freePort" | "baseEnv" | "onLine">> | false;
}

export interface ServiceInfo {
  name: string;
  url: string;
  pid: number | undefined;
  state: string;
  kSink: string | undefined;
}

export interface Platform {
  services: ServiceInfo[];
  /** `POST` CloudEvents here (binary or structured): the Broker `default` (or the first Broker). */
  brokerUrl: string;
  ingressUrl: string;
  /** Which backends are real: `embedded` or the URL/brokers used. */
  backends: { postgres: string; events: "embedded" | "kafka"; objects: string };
  topology: Topology;
  log: EventLog;
  dispatchers: Dispatcher[];
  /** POSTs an event to the broker ingress in binary mode; rejects unless 202. */
  publish(event: MaasEvent): Promise<void>;
  /** Runs a PingSource now. */
  firePing(name: string): Promise<void>;
  /** The local Knative API server (KUBE_API_URL of the functions) and its scaled Services; undefined when off. */
  serving: { url: string; knative: LocalKnative; api: ApiServer } | undefined;
  stop(): Promise<void>;
}

/** The script a Service runs locally: its `local.maas.dev/entry` annotation or the function's main.ts. */
function entryFor(root: string, svc: { name: string; entry: string | undefined }): string {
  return path.resolve(root, svc.entry ?? `functions/${svc.name}/src/main.ts`);
}

/**
 * Runs the platform on this machine from Knative manifests: one child process per Service, the
 * Broker/KafkaSink ingress, a Dispatcher per Trigger and KafkaSource, PingSource crons, K_SINK from
 * SinkBindings. Embedded defaults (PGlite over the wire protocol, in-memory event log, a folder for
 * objects) unless DATABASE_URL / KAFKA_BROKERS are set; REDIS_URL and S3_ENDPOINT pass through.
 * If anything fails to start, everything started is stopped and the error names the culprit.
 *
 * @example
 * const platform = await startPlatform({ knativeDir: "knative/base" });
 * await platform.publish(event);
 * await platform.stop();
 */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const root = options.root ?? repoRoot;
  const env = options.env ?? process.env;
  const host = options.host ?? "127.0.0.1";
  const portBase = options.portBase ?? Number(env.PORT_BASE ?? 8100);
  const dataDir = options.dataDir ?? path.join(root, ".local");
  const mapTopic = options.mapTopic ?? ((t: string) => t);
  const mapGroup = options.mapGroup ?? ((g: string) => g);
  const onLine =
    options.onLine ?? ((name: string, line: string) => process.stdout.write(`[${name}] ${line}\n`));
  const notice = (line: string) => onLine("runner", line);

  const { resources } = await loadKustomization(path.resolve(root, options.knativeDir ?? "knative/base"));
  const topology = buildTopology(resources);
  for (const svc of topology.services) {
    const file = entryFor(root, svc);
    if (!existsSync(file))
      throw new Error(`Service ${svc.name}: entry ${path.relative(root, file)} does not exist`);
  }

  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((err: unknown) => notice(`stop: ${String(err)}`));
    }
  };

  try {
    // Postgres: real when DATABASE_URL is set, else one PGlite for every function.
    let databaseUrl = env.DATABASE_URL || undefined;
    let postgres = "embedded (PGlite)";
    if (databaseUrl) postgres = databaseUrl.replace(/\/\/[^@/]*@/, "//***@");
    else {
      const pg: EmbeddedPostgres = await startEmbeddedPostgres(
        options.ephemeral ? {} : { dataDir: path.join(dataDir, "pgdata") },
      );
      cleanups.push(() => pg.stop());
      databaseUrl = pg.url;
    }
    const objectDir = path.join(dataDir, "objects");
    await mkdir(objectDir, { recursive: true });
    const secretsKey = env.SECRETS_KEY || (await localSecretsKey(dataDir));

    // Event log: real Kafka when KAFKA_BROKERS is set.
    const topics = new Set<string>([
      ...topology.brokers.map((b) => mapTopic(b.topic)),
      ...topology.kafkaSinks.map((s) => mapTopic(s.topic)),
      ...topology.kafkaSources.flatMap((s) => s.topics.map(mapTopic)),
    ]);
    let log: EventLog;
    let events: "embedded" | "kafka" = "embedded";
    if (env.KAFKA_BROKERS) {
      const kafkaLog = new KafkaEventLog({
        kafka: createKafka({ brokers: env.KAFKA_BROKERS, clientId: "maas-runner" }),
      });
      await kafkaLog.ensureTopics([...topics]);
      log = kafkaLog;
      events = "kafka";
    } else {
      log = new EmbeddedEventLog({
        onHandlerError: (err, topic, group) => notice(`${group} on ${topic}: ${String(err)}`),
      });
    }
    cleanups.push(() => log.close());

    // What a cluster does with a migration Job and the relay Deployment, the runner does itself: the
    // schema is brought up to date before any function starts, and committed outbox rows are relayed
    // into the event log (the Broker's topic, or the definition's own topic such as maas.usage).
    const database = await createDb({ url: databaseUrl });
    cleanups.push(() => database.close());
    await migrateToLatest(database.db);
    const brokerTopic = topology.brokers[0]?.topic ?? "maas.events";
    const relay = new OutboxRelay({
      db: database.db,
      pollIntervalMs: 200,
      publisher: {
        publish: async (evs) => {
          for (const ev of evs) {
            const topic = getDefinition(ev.type)?.topic === "maas.usage" ? "maas.usage" : brokerTopic;
            await log.append(mapTopic(topic), [ev]);
          }
        },
      },
      logger: {
        warn: (obj, msg) => notice(`outbox relay: ${msg ?? ""} ${JSON.stringify(obj)}`),
        error: (obj, msg) => notice(`outbox relay: ${msg ?? ""} ${JSON.stringify(obj)}`),
      },
    });
    relay.start();
    cleanups.push(() => relay.stop());

    // Broker and KafkaSink ingress, one server: `/<ns>/<name>` each.
    const ingress = await startBrokerIngress(
      {
        log,
        routes: [
          ...topology.brokers.map((b) => ({
            path: `/${b.namespace}/${b.name}`,
            topicFor: () => mapTopic(b.topic),
          })),
          ...topology.kafkaSinks.map((s) => ({
            path: `/${s.namespace}/${s.name}`,
            topicFor: () => mapTopic(s.topic),
          })),
        ],
      },
      { host, port: portBase },
    );
    cleanups.push(() => ingress.close());

    // Ports must be known before any child starts (K_SINK and subscriber URLs), so allocate them first.
    const ports =
      portBase === 0
        ? await Promise.all(topology.services.map(() => freePort(host)))
        : topology.services.map((_, i) => portBase + 1 + i);
    const urlOf = new Map(topology.services.map((svc, i) => [svc.name, `http://${host}:${ports[i]}`]));
    const resolve = (d: Destination, namespace: string): string => {
      let base: string | undefined;
      if (d.ref) {
        const ns = d.ref.namespace ?? namespace;
        if (d.ref.kind === "Service") {
          const url = urlOf.get(d.ref.name);
          if (!url) throw new Error(`no Service ${d.ref.name}`);
          base = `${url}/`;
        } else if (d.ref.kind === "Broker" || d.ref.kind === "KafkaSink") {
          base = `${ingress.url}/${ns}/${d.ref.name}`;
        } else throw new Error(`cannot address a ${d.ref.kind} locally`);
      }
      if (!d.uri) return base!;
      return base ? new URL(d.uri, base).toString() : d.uri;
    };
    // SinkBinding: K_SINK for the bound Services.
    const kSinkOf = new Map<string, string>();
    for (const b of topology.sinkBindings) {
      const sink = resolve(b.sink, b.namespace);
      for (const name of b.services) kSinkOf.set(name, sink);
    }

    // Local Knative Serving: the deployer applies inference Services here (KUBE_API_URL).
    let serving: Platform["serving"];
    if (options.serving !== false) {
      const knative = new LocalKnative({
        root,
        host,
        freePort: () => freePort(host),
        baseEnv: {
          ...process.env,
          ...options.childEnv,
          DATABASE_URL: databaseUrl,
          OBJECT_DIR: objectDir,
        },
        onLine,
        ...(options.serving ?? {}),
      });
      const api = await startApiServer({
        validator: createManifestValidator(),
        controller: knative,
        host,
        requireNamespaces: false,
        fallback: (req, res) => {
          if (req.url !== "/metrics") return false;
          res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
          res.end(knative.metrics());
          return true;
        },
      });
      cleanups.push(() => api.close());
      serving = { url: api.url, knative, api };
    }

    const processes = new Map<string, FunctionProcess>();
    topology.services.forEach((svc, i) => {
      const childEnv: NodeJS.ProcessEnv = {
        ...process.env,
        ...svc.env,
        ...options.childEnv,
        DATABASE_URL: databaseUrl,
        OBJECT_DIR: objectDir,
        SECRETS_KEY: secretsKey,
        FUNCTION_NAME: svc.name,
        K_SERVICE: svc.name,
      };
      for (const key of ["REDIS_URL", "S3_ENDPOINT", "KAFKA_BROKERS"] as const) {
        if (env[key]) childEnv[key] = env[key];
        else delete childEnv[key];
      }
      if (serving) {
        childEnv.KUBE_API_URL = serving.url;
        // Locally, models are files in the embedded object folder, not S3 objects.
        childEnv.MODEL_URI_BASE ??= env.S3_ENDPOINT ? "s3://maas-models/" : `file://${objectDir}/`;
      }
      const sink = kSinkOf.get(svc.name);
      if (sink) childEnv.K_SINK = sink;
      else delete childEnv.K_SINK;
      processes.set(
        svc.name,
        new FunctionProcess({
          name: svc.name,
          command: process.execPath,
          args: ["--import", "tsx", entryFor(root, svc)],
          cwd: root,
          env: childEnv,
          host,
          port: ports[i]!,
          readinessPath: svc.readinessPath,
          startTimeoutMs: options.startTimeoutMs ?? 60_000,
          stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
          onLine,
          onUnexpectedExit: (name, code, signal) =>
            notice(
              `${name} exited unexpectedly (code ${String(code)}, signal ${String(signal)}); not restarted`,
            ),
        }),
      );
    });
    cleanups.push(async () => {
      await Promise.all([...processes.values()].map((p) => p.stop()));
    });
    const templates = new Set(options.templates ?? ["inference"]);
    await Promise.all(
      topology.services
        .filter((svc) => !templates.has(svc.name))
        .map((svc) => processes.get(svc.name)!.start()),
    );

    // Delivery: a Dispatcher per Trigger and per KafkaSource topic, after subscribers are ready.
    const dispatchers: Dispatcher[] = [];
    const deadLetterOf = (policy: DeliveryPolicy, ns: string) =>
      policy.deadLetterSink ? resolve(policy.deadLetterSink, ns) : undefined;
    for (const t of topology.triggers) {
      const broker = topology.brokers.find((b) => b.name === t.broker && b.namespace === t.namespace)!;
      dispatchers.push(
        new Dispatcher({
          name: `trigger/${t.name}`,
          log,
          topic: mapTopic(broker.topic),
          groupId: mapGroup(`knative-trigger-${t.namespace}-${t.name}`),
          subscriberUrl: resolve(t.subscriber, t.namespace),
          policy: t.delivery,
          deadLetterUrl: deadLetterOf(t.delivery, t.namespace),
          filter: t.filter,
          fromBeginning: true,
          onReply: (reply) => log.append(mapTopic(broker.topic), [reply]),
          onOutcome: (ev, outcome) => reportOutcome(`trigger/${t.name}`, ev, outcome),
          ...(options.deliver ? { deliver: options.deliver } : {}),
        }),
      );
    }
    for (const s of topology.kafkaSources) {
      for (const topic of s.topics) {
        dispatchers.push(
          new Dispatcher({
            name: `kafkasource/${s.name}`,
            log,
            topic: mapTopic(topic),
            groupId: mapGroup(s.consumerGroup),
            subscriberUrl: resolve(s.sink, s.namespace),
            policy: s.delivery,
            deadLetterUrl: deadLetterOf(s.delivery, s.namespace),
            fromBeginning: s.initialOffset === "earliest",
            onOutcome: (ev, outcome) => reportOutcome(`kafkasource/${s.name}`, ev, outcome),
            ...(options.deliver ? { deliver: options.deliver } : {}),
          }),
        );
      }
    }
    function reportOutcome(name: string, ev: MaasEvent, outcome: DeliveryOutcome) {
      options.onOutcome?.(name, ev, outcome);
      if (outcome.result !== "delivered") notice(`${name}: ${ev.type} ${ev.id} ${JSON.stringify(outcome)}`);
    }
    cleanups.push(async () => {
      await Promise.all(dispatchers.map((d) => d.stop()));
    });
    for (const d of dispatchers) await d.start();

    const pings = new PingScheduler();
    const pingPolicy = parseDeliverySpec({ retry: 3, backoffDelay: "PT1S" });
    for (const p of topology.pingSources) {
      const url = resolve(p.sink, p.namespace);
      pings.add(
        {
          ...p,
          deliver: async (event) => {
            const outcome = await deliverWithRetry(event, url, pingPolicy, options.deliver ?? {});
            reportOutcome(`pingsource/${p.name}`, event, outcome);
          },
        },
        { schedule: options.schedulePings ?? true },
      );
    }
    cleanups.push(async () => pings.stop());

    const defaultBroker = topology.brokers.find((b) => b.name === "default") ?? topology.brokers[0];
    const brokerUrl = defaultBroker
      ? `${ingress.url}/${defaultBroker.namespace}/${defaultBroker.name}`
      : ingress.url;
    const services = () =>
      topology.services.map((svc) => {
        const p = processes.get(svc.name)!;
        const state = templates.has(svc.name) ? "on-demand" : p.state;
        return { name: svc.name, url: p.url, pid: p.pid, state, kSink: kSinkOf.get(svc.name) };
      });
    let stopped = false;
    return {
      get services() {
        return services();
      },
      brokerUrl,
      ingressUrl: ingress.url,
      backends: { postgres, events, objects: objectDir },
      topology,
      log,
      dispatchers,
      publish: async (event) => {
        const res = await postEvent(brokerUrl, event);
        if (res.status !== 202) throw new Error(`broker answered ${res.status}: ${res.body}`);
      },
      firePing: (name) => pings.fire(name),
      serving,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
