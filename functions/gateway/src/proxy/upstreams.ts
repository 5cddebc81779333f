import { AppError } from "@maas/errors";
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from "cockatiel";
import { type Dispatcher, Pool } from "undici";
import { AnswerHandler, type UpstreamAnswer } from "./answer-handler.js";
import type { RequestBody } from "./request-body.js";

export interface UpstreamOptions {
  connections: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  breakerThreshold: number;
  breakerHalfOpenMs: number;
  /** Attempts after a connect error (default 2). */
  connectRetries?: number;
}

export interface ForwardRequest {
  origin: string;
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body: RequestBody;
  signal: AbortSignal;
  /** An answer declaring at most this many bytes is read whole (`bytes`); others stream (default 0). */
  bufferBytes?: number;
}

/** Errors that prove the upstream never received the request: safe to retry. */
const CONNECT_ERRORS = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);
/** Errors that count against an upstream's breaker (its own failures, not the client's abort). */
const UPSTREAM_FAULTS = new Set([
  ...CONNECT_ERRORS,
  "ECONNRESET",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_SOCKET",
]);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

export function isConnectError(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && CONNECT_ERRORS.has(code);
}

interface Upstream {
  pool: Pool;
  breaker: CircuitBreakerPolicy;
}

/**
 * One undici keep-alive Pool and one cockatiel circuit breaker per upstream origin (a deployment's
 * inference service). A forward retries only on connect errors and only before any request byte
 * was read (the upstream provably did not start the work); an open breaker answers 502 at once.
 *
 * @example
 * const upstreams = new Upstreams({ connections: 128, connectTimeoutMs: 2000, headersTimeoutMs: 60000, bodyTimeoutMs: 60000, breakerThreshold: 5, breakerHalfOpenMs: 5000 });
 * const res = await upstreams.forward({ origin: route.url, method: "POST", path, headers, body, signal });
 */
export class Upstreams {
  private readonly upstreams = new Map<string, Upstream>();

  constructor(private readonly options: UpstreamOptions) {}

  async forward(req: ForwardRequest): Promise<UpstreamAnswer> {
    const upstream = this.upstreamFor(req.origin);
    const retries = this.options.connectRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      try {
        return await upstream.breaker.execute(() => this.dispatch(upstream.pool, req));
      } catch (err) {
        if (err instanceof BrokenCircuitError) {
          throw new AppError(
            "UPSTREAM_UNAVAILABLE",
            "the model's inference service is failing; retry later",
            {
              retryAfterSeconds: Math.ceil(this.options.breakerHalfOpenMs / 1000),
            },
          );
        }
        if (req.signal.aborted) throw err;
        if (isConnectError(err) && req.body.retryable && attempt < retries) {
          await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
          continue;
        }
        const code = codeOf(err);
        if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
          throw new AppError("TIMEOUT", "the model's inference service did not answer in time");
        }
        throw new AppError("UPSTREAM_UNAVAILABLE", "the model's inference service is unreachable", {
          details: { cause: code ?? "unknown" },
        });
      }
    }
  }

  private dispatch(pool: Pool, req: ForwardRequest): Promise<UpstreamAnswer> {
    return new Promise<UpstreamAnswer>((resolve, reject) => {
      const options: Dispatcher.DispatchOptions = {
        method: req.method,
        path: req.path,
        headers: req.headers,
        // undici streams async iterables (its types only list Readable).
        body: req.body.payload() as Dispatcher.DispatchOptions["body"],
        headersTimeout: this.options.headersTimeoutMs,
        bodyTimeout: this.options.bodyTimeoutMs,
      };
      pool.dispatch(options, new AnswerHandler(resolve, reject, req.bufferBytes ?? 0, req.signal));
    });
  }

  /** Breaker state per origin (for /metrics and tests). */
  breakerState(origin: string): "closed" | "open" | "half-open" | "isolated" | undefined {
    const state = this.upstreams.get(new URL(origin).origin)?.breaker.state;
    if (state === undefined) return undefined;
    return (
      {
        [CircuitState.Closed]: "closed",
        [CircuitState.Open]: "open",
        [CircuitState.HalfOpen]: "half-open",
        [CircuitState.Isolated]: "isolated",
      } as const
    )[state];
  }

  async close(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((u) => u.pool.close()));
    this.upstreams.clear();
  }

  private upstreamFor(url: string): Upstream {
    const origin = new URL(url).origin;
    let upstream = this.upstreams.get(origin);
    if (upstream === undefined) {
      upstream = {
        pool: new Pool(origin, {
          connections: this.options.connections,
          connectTimeout: this.options.connectTimeoutMs,
          keepAliveTimeout: 30_000,
          // Requests are not pipelined: one slow inference must not hold the ones queued behind it.
          pipelining: 1,
        }),
        breaker: circuitBreaker(
          handleWhen((err) => UPSTREAM_FAULTS.has(codeOf(err) ?? "")),
          {
            halfOpenAfter: this.options.breakerHalfOpenMs,
            breaker: new ConsecutiveBreaker(this.options.breakerThreshold),
          },
        ),
      };
      this.upstreams.set(origin, upstream);
    }
    return upstream;
  }
}
