import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FunctionProcess } from "../function-process.js";

/** Knative's autoscaling knobs as the local activator applies them. */
export interface ScalePolicy {
  minScale: number;
  maxScale: number;
  /** Instances started when the Service is (re)configured; Knative's initial-scale. */
  initialScale: number;
  /** Concurrent requests per instance before another one is started. */
  target: number;
  /** scale-to-zero-pod-retention-period (ms). */
  retentionMs: number;
  /** Knative's stable window (60 s there); short in tests. */
  stableWindowMs: number;
}

export interface ActivatorLimits {
  /** Requests held while no instance is ready; beyond this a request gets 503 at once. */
  maxQueue: number;
  /** How long a held request waits for an instance before 503. */
  queueTimeoutMs: number;
}

/** How one instance came up: spawn → ready, and the function's own phases when it reports them. */
export interface ColdStart {
  service: string;
  instance: number;
  startedAt: string;
  spawnToReadyMs: number;
  /** From the instance's `inference_cold_start_seconds{phase}` gauge, in ms, when it exports one. */
  phases: Record<string, number>;
}

export interface InstanceSpec {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  readinessPath: string;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

export interface ScaledServiceOptions {
  name: string;
  host: string;
  /** Where the activator listens (the Service's URL); 0 = any free port. */
  port?: number;
  policy: ScalePolicy;
  limits: ActivatorLimits;
  instance: InstanceSpec;
  freePort: () => Promise<number>;
  onLine?: (name: string, line: string) => void;
  onColdStart?: (cold: ColdStart) => void;
  onScale?: (service: string, instances: number, reason: string) => void;
  /** Tick of the autoscaler loop (default 100 ms). */
  tickMs?: number;
}

interface Instance {
  id: number;
  process: FunctionProcess;
  inFlight: number;
  ready: boolean;
  /** Last time a request ended on it or it became ready. */
  idleSince: number;
}

interface Held {
  resolve: (instance: Instance) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One Knative Service run locally the way Knative runs it: an activator (an HTTP proxy on the
 * Service's URL) in front of zero or more instances. With none ready, requests are held in a bounded
 * queue (overflow or timeout → 503) while one starts; then they are forwarded round-robin across ready
 * instances. When in-flight requests exceed `target` × instances, another starts, up to `maxScale`.
 * An instance idle for the stable window plus the retention period stops, down to `minScale`.
 *
 * @example
 * const svc = new ScaledService({ name: "resnet", host: "127.0.0.1", policy, limits, instance, freePort });
 * await svc.start(); // listens; starts initialScale instances
 * await fetch(`${svc.url}/v2/models/resnet`);
 */
export class ScaledService {
  readonly name: string;
  readonly coldStarts: ColdStart[] = [];
  #opts: ScaledServiceOptions;
  #policy: ScalePolicy;
  #server: Server | undefined;
  #url = "";
  #instances: Instance[] = [];
  #starting = 0;
  readonly #startingProcesses = new Set<FunctionProcess>();
  #held: Held[] = [];
  #nextId = 1;
  #rr = 0;
  #inFlight = 0;
  #tick: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastFailure: string | undefined;
  readonly #ports = new Set<number>();

  constructor(options: ScaledServiceOptions) {
    this.name = options.name;
    this.#opts = options;
    this.#policy = options.policy;
  }

  get url(): string {
    return this.#url;
  }

  get policy(): ScalePolicy {
    return this.#policy;
  }

  /** Ready instances and their pids (tests and the runner's table). */
  get instances(): { id: number; pid: number | undefined; ready: boolean; inFlight: number }[] {
    return this.#instances.map((i) => ({
      id: i.id,
      pid: i.process.pid,
      ready: i.ready,
      inFlight: i.inFlight,
    }));
  }

  get lastFailure(): string | undefined {
    return this.#lastFailure;
  }

  /** Listens, then starts `initialScale` instances; resolves when they are ready (or rejects). */
  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.#server!.once("error", reject);
      this.#server!.listen(this.#opts.port ?? 0, this.#opts.host, () => resolve());
    });
    this.#url = `http://${this.#opts.host}:${(this.#server.address() as AddressInfo).port}`;
    this.#tick = setInterval(() => this.#autoscale(), this.#opts.tickMs ?? 100);
    const initial = Math.min(
      this.#policy.maxScale,
      Math.max(this.#policy.initialScale, this.#policy.minScale),
    );
    await Promise.all(Array.from({ length: initial }, () => this.#scaleUp("initial-scale")));
  }

  /** New policy (a re-applied Service); instances follow on the next ticks. */
  reconfigure(policy: ScalePolicy, instance: InstanceSpec): void {
    this.#policy = policy;
    this.#opts = { ...this.#opts, instance };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#tick);
    for (const h of this.#held.splice(0)) {
      clearTimeout(h.timer);
      h.reject(new Error("service stopped"));
    }
    // Stop accepting first, so nothing is routed to an instance that is going away.
    const closed = this.#server
      ? new Promise<void>((resolve) => this.#server!.close(() => resolve()))
      : Promise.resolve();
    this.#server?.closeAllConnections();
    const instances = this.#instances.splice(0);
    await Promise.all([
      closed,
      ...instances.map((i) => i.process.stop()),
      ...[...this.#startingProcesses].map((p) => p.stop()),
    ]);
  }

  async #scaleUp(reason: string): Promise<Instance | undefined> {
    if (this.#stopped || this.#instances.length + this.#starting >= this.#policy.maxScale) return undefined;
    this.#starting++;
    const id = this.#nextId++;
    const spec = this.#opts.instance;
    let port = 0;
    try {
      // Two instances starting at once could be handed the same just-freed port: ask again.
      port = await this.#opts.freePort();
      while (this.#ports.has(port)) port = await this.#opts.freePort();
      this.#ports.add(port);
      const process = new FunctionProcess({
        name: `${this.name}#${id}`,
        command: spec.command,
        args: spec.args,
        cwd: spec.cwd,
        env: { ...spec.env, K_SERVICE: this.name },
        host: this.#opts.host,
        port,
        readinessPath: spec.readinessPath,
        startTimeoutMs: spec.startTimeoutMs,
        stopTimeoutMs: spec.stopTimeoutMs,
        pollIntervalMs: 20,
        ...(this.#opts.onLine ? { onLine: this.#opts.onLine } : {}),
        onUnexpectedExit: () => {
          this.#ports.delete(port);
          this.#instances = this.#instances.filter((i) => i.id !== id);
          this.#opts.onScale?.(this.name, this.#instances.length, `instance ${id} exited`);
        },
      });
      const started = performance.now();
      const startedAt = new Date().toISOString();
      // Tracked while starting so stop() can end it too: otherwise a stop during a cold start leaves
      // the child running after its parent is gone.
      this.#startingProcesses.add(process);
      await process.start().finally(() => this.#startingProcesses.delete(process));
      const spawnToReadyMs = performance.now() - started;
      const instance: Instance = { id, process, inFlight: 0, ready: true, idleSince: Date.now() };
      this.#starting--;
      if (this.#stopped) {
        await process.stop();
        return undefined;
      }
      this.#instances.push(instance);
      this.#lastFailure = undefined;
      this.#opts.onScale?.(this.name, this.#instances.length, reason);
      this.#drainHeld();
      void this.#recordColdStart(instance, startedAt, spawnToReadyMs);
      return instance;
    } catch (err) {
      this.#starting--;
      this.#ports.delete(port);
      this.#lastFailure = err instanceof Error ? err.message : String(err);
      this.#opts.onLine?.("runner", `${this.name}: instance ${id} failed to start: ${this.#lastFailure}`);
      // Nobody will come: fail the held requests now rather than at their timeout.
      if (this.#instances.length === 0 && this.#starting === 0) {
        for (const h of this.#held.splice(0)) {
          clearTimeout(h.timer);
          h.reject(new Error(`no instance could start: ${this.#lastFailure}`));
        }
      }
      throw err;
    }
  }

  async #recordColdStart(instance: Instance, startedAt: string, spawnToReadyMs: number): Promise<void> {
    const phases: Record<string, number> = {};
    try {
      const res = await fetch(`${instance.process.url}/metrics`, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      for (const m of text.matchAll(/^inference_cold_start_seconds\{([^}]*)\}\s+([0-9.eE+-]+)$/gm)) {
        const phase = /phase="([^"]+)"/.exec(m[1]!)?.[1];
        if (phase) phases[phase] = Number(m[2]) * 1000;
      }
    } catch {
      // not every function exports phases
    }
    const cold: ColdStart = { service: this.name, instance: instance.id, startedAt, spawnToReadyMs, phases };
    this.coldStarts.push(cold);
    this.#opts.onColdStart?.(cold);
  }

  #pick(): Instance | undefined {
    const ready = this.#instances.filter((i) => i.ready);
    if (ready.length === 0) return undefined;
    const instance = ready[this.#rr++ % ready.length]!;
    return instance;
  }

  #drainHeld(): void {
    while (this.#held.length > 0) {
      const instance = this.#pick();
      if (!instance) return;
      const h = this.#held.shift()!;
      clearTimeout(h.timer);
      h.resolve(instance);
    }
  }

  #acquire(): Promise<Instance> {
    const instance = this.#pick();
    if (instance) return Promise.resolve(instance);
    if (this.#held.length >= this.#opts.limits.maxQueue) {
      return Promise.reject(new Error(`activator queue full (${this.#opts.limits.maxQueue})`));
    }
    if (this.#instances.length + this.#starting === 0)
      void this.#scaleUp("request while at zero").catch(() => {});
    return new Promise<Instance>((resolve, reject) => {
      const held: Held = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#held = this.#held.filter((h) => h !== held);
          reject(new Error(`no instance ready within ${this.#opts.limits.queueTimeoutMs} ms`));
        }, this.#opts.limits.queueTimeoutMs),
      };
      this.#held.push(held);
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#inFlight++;
    // Scale on demand at once instead of waiting for the tick (Knative's panic mode, simplified).
    this.#autoscale();
    let instance: Instance;
    try {
      instance = await this.#acquire();
    } catch (err) {
      this.#inFlight--;
      const body = JSON.stringify({
        error: { code: "UNAVAILABLE", message: err instanceof Error ? err.message : String(err) },
      });
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
      res.end(body);
      return;
    }
    instance.inFlight++;
    const done = () => {
      instance.inFlight--;
      this.#inFlight--;
      instance.idleSince = Date.now();
    };
    const url = new URL(instance.process.url);
    const upstream = request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: url.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.once("end", done);
        up.once("error", done);
      },
    );
    upstream.once("error", (err) => {
      done();
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "BAD_GATEWAY", message: err.message } }));
      } else res.destroy(err);
    });
    req.pipe(upstream);
  }

  #autoscale(): void {
    if (this.#stopped) return;
    const p = this.#policy;
    const capacity = this.#instances.length + this.#starting;
    // Desired: enough instances that each carries at most `target` in-flight requests.
    const wanted = Math.min(p.maxScale, Math.max(p.minScale, Math.ceil(this.#inFlight / p.target)));
    if (this.#inFlight > 0 && wanted > capacity) {
      for (let i = capacity; i < wanted; i++)
        void this.#scaleUp(`in-flight ${this.#inFlight} > target ${p.target} × ${capacity}`).catch(() => {});
      return;
    }
    // Scale down one idle instance at a time after the stable window plus the retention period.
    const now = Date.now();
    const needed = Math.max(p.minScale, Math.ceil(this.#inFlight / p.target));
    if (this.#instances.length > needed) {
      const idle = this.#instances
        .filter((i) => i.inFlight === 0 && now - i.idleSince >= p.stableWindowMs + p.retentionMs)
        .sort((a, b) => a.idleSince - b.idleSince)[0];
      if (idle) {
        this.#instances = this.#instances.filter((i) => i !== idle);
        idle.ready = false;
        this.#opts.onScale?.(this.name, this.#instances.length, `instance ${idle.id} idle`);
        const port = Number(new URL(idle.process.url).port);
        void idle.process.stop().finally(() => this.#ports.delete(port));
      }
    }
  }
}
