import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { Registry } from "prom-client";
import { counter, histogram } from "../../metrics.js";
import type { AppEnv } from "../../types.js";

export interface HttpMetricsOptions {
  registry: Registry;
  /** Value of the `function` label, so one Prometheus query spans every function. */
  functionName: string;
  buckets?: number[];
}

/** Route label for requests no route matched: a raw path here would let any caller mint series. */
export const UNMATCHED_ROUTE = "unmatched";

/** Seconds; spans a 1 ms health probe to a long inference call. */
const DEFAULT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Counts requests and observes their duration, labelled by the matched ROUTE PATTERN
 * (`/v1/models/:id`), never the raw path, so label cardinality stays bounded.
 *
 * @example
 * app.use(httpMetrics({ registry, functionName: "control" }));
 */
export function httpMetrics(options: HttpMetricsOptions): MiddlewareHandler<AppEnv> {
  const record = httpMetricsRecorder(options);
  return async function httpMetricsMiddleware(c, next) {
    const started = performance.now();
    await next();
    record(c.req.method, matchedRoute(c), c.res.status, (performance.now() - started) / 1000);
  };
}

/** Records one finished request: method, route pattern, status, seconds. */
export type HttpMetricsRecorder = (method: string, route: string, status: number, seconds: number) => void;

/**
 * The series behind `httpMetrics`, for a handler outside Hono (runtime `intercept`) to record into
 * the same ones. Label children are kept per (method, route, status), so a request costs two
 * increments and no label hashing.
 *
 * @example
 * const record = httpMetricsRecorder({ registry, functionName: "gateway" });
 * record("POST", "/v2/models/:name/infer", 200, 0.0012);
 */
export function httpMetricsRecorder(options: HttpMetricsOptions): HttpMetricsRecorder {
  const labels = ["function", "method", "route", "status"] as const;
  const requests = counter(options.registry, {
    name: "http_requests_total",
    help: "HTTP requests handled, by function, method, route pattern and status",
    labelNames: labels,
  });
  const duration = histogram(options.registry, {
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by function, method, route pattern and status",
    labelNames: labels,
    buckets: options.buckets ?? DEFAULT_BUCKETS,
  });
  const series = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();
  return (method, route, status, seconds) => {
    const key = `${method} ${route} ${status}`;
    let s = series.get(key);
    if (s === undefined) {
      const values = { function: options.functionName, method, route, status: String(status) };
      s = { count: requests.labels(values), time: duration.labels(values) };
      series.set(key, s);
    }
    s.count.inc();
    s.time.observe(seconds);
  };
}

type RouteContext = Parameters<typeof routePath>[0];

/**
 * The last route the router matched, even when a middleware answered first (a 401 from auth still
 * belongs to `/v2/models/:name/infer`). When only catch-all middleware matched, notFound answered and
 * there is no pattern to report.
 */
function matchedRoute(c: RouteContext): string {
  const path = routePath(c, -1);
  if (path === "" || path === "*" || path === "/*") return UNMATCHED_ROUTE;
  return path;
}
