import { existsSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createEvent, events, type MaasEvent } from "@maas/events";
import { type Platform, type PlatformOptions, startPlatform } from "../../scripts/runner/index.js";

export const fixtureKnative = "tests/runner/fixtures/knative";

export interface Recorded {
  headers: Record<string, string>;
  body: string;
  status: number;
}

export interface FixturePlatform {
  platform: Platform;
  runId: string;
  recordDir: string;
  topic: (t: string) => string;
  records: () => Recorded[];
}

/** Starts the fixture platform with topics and groups suffixed by a fresh run id (reruns stay isolated). */
export async function startFixturePlatform(
  env: NodeJS.ProcessEnv,
  extra: Partial<PlatformOptions> = {},
): Promise<FixturePlatform> {
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const recordDir = await mkdtemp(path.join(tmpdir(), "maas-runner-"));
  const topic = (t: string) => `${t}.test-${runId}`;
  const platform = await startPlatform({
    knativeDir: fixtureKnative,
    env,
    portBase: 0,
    dataDir: recordDir,
    ephemeral: true,
    schedulePings: false,
    mapTopic: topic,
    mapGroup: (g) => `${g}.test-${runId}`,
    childEnv: { RECORD_DIR: recordDir },
    onLine: () => {},
    stopTimeoutMs: 5000,
    ...extra,
  });
  const file = path.join(recordDir, "recorder.jsonl");
  const records = () =>
    existsSync(file)
      ? readFileSync(file, "utf8")
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l) as Recorded)
      : [];
  return { platform, runId, recordDir, topic, records };
}

export async function until<T>(
  read: () => T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tenant.created event; `failTimes` makes the recorder fail its first N deliveries. */
export function tenantCreated(tenant: string, failTimes?: number): MaasEvent {
  const ev = createEvent(events.tenantCreated, {
    source: "/tests/runner",
    data: { tenantId: tenant, slug: "acme", name: "Acme", plan: "free" },
  });
  return failTimes === undefined ? ev : (ev.cloneWith({ failtimes: String(failTimes) }, true) as MaasEvent);
}

export function usageEvent(tenant: string): MaasEvent {
  return createEvent(events.inferenceCompleted, {
    source: "/functions/gateway",
    data: {
      tenantId: tenant,
      deploymentId: "dep_1",
      modelId: "mdl_1",
      versionId: "mver_1",
      requestId: "req_1",
      status: "ok",
      startedAt: new Date().toISOString(),
      durationMs: 3,
      inputBytes: 10,
      outputBytes: 20,
      costMicros: 5,
    },
  });
}

export function recordsFor(records: Recorded[], id: string): Recorded[] {
  return records.filter((r) => r.headers["ce-id"] === id);
}
