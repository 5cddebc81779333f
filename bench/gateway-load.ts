// Load generation for bench/gateway.ts (runs in the bench process, never in a gateway's).
import { Pool } from "undici";

export interface Target {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  sent: number;
  byStatus: Record<number, number>;
  errors: number;
  latenciesMs: number[];
  seconds: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function percentiles(latencies: number[]): { p50: number; p99: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: pct(sorted, 50), p99: pct(sorted, 99) };
}

async function one(pool: Pool, t: Target, result: LoadResult): Promise<void> {
  const start = performance.now();
  try {
    const res = await pool.request({ method: "POST", path: t.path, headers: t.headers, body: t.body });
    await res.body.dump();
    result.byStatus[res.statusCode] = (result.byStatus[res.statusCode] ?? 0) + 1;
    if (res.statusCode === 200) result.latenciesMs.push(performance.now() - start);
  } catch {
    result.errors++;
  }
}

function newResult(): LoadResult {
  return { sent: 0, byStatus: {}, errors: 0, latenciesMs: [], seconds: 0 };
}

/** Closed loop: `connections` requests always in flight for `seconds`. */
export async function closedLoop(t: Target, connections: number, seconds: number): Promise<LoadResult> {
  const pool = new Pool(t.origin, { connections });
  const result = newResult();
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        result.sent++;
        await one(pool, t, result);
      }
    }),
  );
  result.seconds = (performance.now() - start) / 1000;
  await pool.close();
  return result;
}

/** Open loop: `rate` requests per second over `connections`, whatever the latency (no coordinated omission). */
export async function fixedRate(
  t: Target,
  rate: number,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const pool = new Pool(t.origin, { connections });
  const result = newResult();
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  const total = Math.round(rate * seconds);
  const tickMs = 5;
  while (result.sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (result.sent < due) {
      result.sent++;
      const p = one(pool, t, result);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await Promise.all([...inflight]);
  result.seconds = (performance.now() - start) / 1000;
  await pool.close();
  return result;
}
