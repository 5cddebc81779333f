// What an instance admits on local limits while Redis is gone is handed to Redis when it returns
// (README "Redis down", point 3). Runs its own redis-server on a spare port, killed and restarted
// here; the shared Redis is not touched.
import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "@maas/config";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQuotaDecider } from "./quota-decider.js";
import { StaticQuotaSource } from "./quota-source.js";
import { quotaRedis, testTenant, uniquePrefix } from "./testing/redis.js";
import type { Decision, Lease } from "./types.js";

let port: number;
let child: ChildProcess | undefined;

async function startRedis(): Promise<void> {
  child = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const probe = quotaRedis(`redis://127.0.0.1:${port}`, { retryStrategy: () => null });
  probe.on("error", () => undefined);
  for (let i = 0; i < 200; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error("redis-server did not start");
}

async function killRedis(): Promise<void> {
  const c = child;
  if (c === undefined || c.exitCode !== null) return;
  const exited = new Promise((r) => c.once("exit", r));
  c.kill("SIGKILL");
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
});
afterAll(killRedis);

function leaseOf(d: Decision): Lease {
  if (!d.allowed) throw new Error(`expected an admission, got ${JSON.stringify(d)}`);
  return d.lease;
}

describe("local admissions synced back to Redis after an outage", () => {
  it("leases still held locally count against the cluster-wide limit once Redis is back", async () => {
    const tenantId = testTenant();
    const maxConcurrency = 4;
    const quotas = new StaticQuotaSource({ [tenantId]: { maxQps: 1000, maxConcurrency } });
    const redis = quotaRedis(`redis://127.0.0.1:${port}`, { retryStrategy: () => 50 });
    redis.on("error", () => undefined);
    await redis.connect();
    const registry = new Registry();
    const keyPrefix = uniquePrefix("backlog");
    const quota = createQuotaDecider({ redis, quotas, keyPrefix, breakerHalfOpenMs: 100, registry });
    await quota.warmUp();
    try {
      quota.release(leaseOf(await quota.decide({ tenantId, estimatedCostMicros: 0 })));

      await killRedis();
      // Degraded (one replica: the whole limit locally): 4 admitted, 2 of them end, 2 keep running.
      const local = [];
      for (let i = 0; i < maxConcurrency; i++)
        local.push(leaseOf(await quota.decide({ tenantId, estimatedCostMicros: 0 })));
      expect(local.every((l) => l.source === "local")).toBe(true);
      await quota.release(local[0] as Lease);
      await quota.release(local[1] as Lease);

      // Redis returns empty (no keys, no scripts). The first decision on it triggers the sync.
      await startRedis();
      let back: Decision | undefined;
      for (let i = 0; i < 200 && (back === undefined || back.degraded); i++) {
        back = await quota.decide({ tenantId, estimatedCostMicros: 0 });
        if (back.degraded && back.allowed) await quota.release(back.lease);
        if (back.degraded) await new Promise((r) => setTimeout(r, 25));
      }
      expect(back?.degraded).toBe(false);
      const first = leaseOf(back as Decision);
      // The sync is off the hot path: wait for it to land.
      const leasesKey = quota.keys.leases(tenantId);
      for (let i = 0; i < 100 && (await redis.zscore(leasesKey, (local[2] as Lease).id)) === null; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const held = await redis.zrange(leasesKey, "0", "-1");
      expect(held).toEqual(
        expect.arrayContaining([(local[2] as Lease).id, (local[3] as Lease).id, first.id]),
      );
      expect(held).not.toContain((local[0] as Lease).id);

      // 2 still running locally + 1 just admitted: one slot left cluster-wide, not four.
      const second = await quota.decide({ tenantId, estimatedCostMicros: 0 });
      expect(second.allowed).toBe(true);
      const third = await quota.decide({ tenantId, estimatedCostMicros: 0 });
      expect(third).toMatchObject({ allowed: false, limit: "concurrency", degraded: false });

      // A local lease ending after recovery frees its slot in Redis too.
      await quota.release(local[2] as Lease);
      await expect
        .poll(async () => (await quota.decide({ tenantId, estimatedCostMicros: 0 })).allowed, {
          timeout: 2000,
        })
        .toBe(true);
      const synced = await registry.getSingleMetric("quota_local_admissions_synced_total")?.get();
      expect(synced?.values[0]?.value ?? 0).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });
});
