import { createHash } from "node:crypto";
import type { ChainableCommander, Redis } from "ioredis";

/** Where batched calls go: an explicit pipeline, or the client itself (pipelined by not waiting). */
export type BatchTarget = Redis | ChainableCommander;

/** Upstash's scripts (since @upstash/ratelimit 2.1) open with `#!lua flags=allow-key-locking`. */
const SHEBANG = /^#![^\n]*\n/;

/** Drops a leading `#!…` line; open-source Redis 7 rejects Upstash's `allow-key-locking` flag. */
export function stripShebang(script: string): string {
  return script.replace(SHEBANG, "");
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

type Callback = (err: Error | null | undefined, result?: unknown) => void;
type ScriptCommand = (...args: (string | number | Callback)[]) => unknown;

export interface RatelimitRedisAdapterOptions {
  /** Keep true on open-source Redis; false only to show the failure it prevents. */
  stripShebang?: boolean;
}

/**
 * The slice of the `@upstash/redis` client that `@upstash/ratelimit`'s single-region limiters call
 * (`evalsha(hash, keys, args)`, falling back to `eval(script, keys, args)` on NOSCRIPT), served by
 * ioredis.
 *
 * The library's hashes are of its scripts *with* the Upstash shebang, which OSS Redis never holds, so
 * an unknown hash is answered NOSCRIPT locally (no round trip); the library then hands over the
 * script text, which is registered once, shebang stripped, as an ioredis command (EVALSHA with
 * EVAL fallback). `withBatch` sends the library's call to the caller's target within the caller's
 * synchronous section, so it travels with the caller's other commands: one round trip.
 *
 * @example
 * const adapter = new RatelimitRedisAdapter(new Redis(url));
 * const limiter = new Ratelimit({ redis: adapter.asUpstash(), limiter: Ratelimit.slidingWindow(50, "1 s") });
 */
export class RatelimitRedisAdapter {
  /** Library hash → the ioredis command that runs its (stripped) script. */
  private readonly commands = new Map<string, string>();
  /** Library hash → the script text as the library sent it (for inspection and tests). */
  readonly originals = new Map<string, string>();
  private batch: BatchTarget | undefined;
  /** Script calls that went straight to Redis rather than into a batch (each one round trip). */
  directCalls = 0;

  constructor(
    private readonly redis: Redis,
    private readonly options: RatelimitRedisAdapterOptions = {},
  ) {}

  /**
   * Runs `fn` with every script call it makes synchronously sent to `target` and counted as part of
   * the caller's round trip. The library reaches `evalsha` without awaiting anything first, so its
   * call lands in the batch; a call that escapes (NOSCRIPT fallback) counts in `directCalls`.
   */
  withBatch<T>(target: BatchTarget, fn: () => T): T {
    this.batch = target;
    try {
      return fn();
    } finally {
      this.batch = undefined;
    }
  }

  async evalsha(hash: string, keys: string[], args: unknown[]): Promise<unknown> {
    const name = this.commands.get(hash);
    if (name === undefined) {
      // The library matches on the text "NOSCRIPT" and retries with eval(script).
      throw new Error(`NOSCRIPT ${hash} is not registered with the adapter yet`);
    }
    return this.run(name, keys, args);
  }

  async eval(script: string, keys: string[], args: unknown[]): Promise<unknown> {
    const hash = sha1(script);
    let name = this.commands.get(hash);
    if (name === undefined) {
      name = `upstash_${hash}`;
      const lua = this.options.stripShebang === false ? script : stripShebang(script);
      this.redis.defineCommand(name, { lua });
      this.commands.set(hash, name);
      this.originals.set(hash, script);
    }
    return this.run(name, keys, args);
  }

  /** This adapter typed as the library's `redis` option (it reads only the methods above). */
  asUpstash<T>(): T {
    return this as unknown as T;
  }

  private run(name: string, keys: string[], args: unknown[]): Promise<unknown> {
    const argv: (string | number)[] = [keys.length, ...keys, ...args.map((a) => String(a))];
    const batch = this.batch;
    if (batch !== undefined) {
      const command = (batch as unknown as Record<string, ScriptCommand>)[name];
      if (command === undefined) throw new Error(`batch target lacks script ${name}`);
      return new Promise((resolve, reject) => {
        command.call(batch, ...argv, (err, result) => (err ? reject(err) : resolve(result)));
      });
    }
    this.directCalls++;
    const command = (this.redis as unknown as Record<string, ScriptCommand>)[name];
    if (command === undefined) throw new Error(`script ${name} is not defined`);
    return command.call(this.redis, ...argv) as Promise<unknown>;
  }
}
