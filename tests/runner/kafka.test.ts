import { execFileSync, spawnSync } from "node:child_process";
import { connect } from "node:net";
import { KafkaEventLog } from "@maas/delivery";
import { decodeHttp, events, type MaasEvent } from "@maas/events";
import { createKafka } from "@maas/events/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FixturePlatform,
  recordsFor,
  sleep,
  startFixturePlatform,
  tenantCreated,
  until,
} from "./harness.js";

// The same delivery path on REAL Kafka (KAFKA_BROKERS, default the project's 127.0.0.1:59092), including
// an event produced by a plain Kafka client (kcat) in CloudEvents binary mode.
const brokers = process.env.KAFKA_BROKERS ?? "127.0.0.1:59092";

async function reachable(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(",")[0]!.trim().split(":");
  return new Promise((resolve) => {
    const socket = connect({ host: host!, port: Number(port) }, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** kcat from Debian; installed on demand (we run as root in CI and dev containers). */
function ensureKcat(): string {
  if (spawnSync("kcat", ["-V"]).status === 0) return "kcat";
  const apt = spawnSync("apt-get", ["install", "-y", "kcat"], { encoding: "utf8" });
  if (apt.status !== 0 || spawnSync("kcat", ["-V"]).status !== 0) {
    throw new Error(
      `kcat is needed to produce from a plain Kafka client and could not be installed (apt-get install -y kcat ` +
        `exited ${String(apt.status)}: ${apt.stderr?.slice(-300)}). Install it (Debian package "kcat") and rerun.`,
    );
  }
  return "kcat";
}

let fx: FixturePlatform;
let dlqLog: KafkaEventLog;
const deadLetters: MaasEvent[] = [];

beforeAll(async () => {
  if (!(await reachable(brokers))) {
    throw new Error(
      `Kafka is not reachable at ${brokers}: start it with \`pnpm infra up\` or set KAFKA_BROKERS`,
    );
  }
  fx = await startFixturePlatform({ KAFKA_BROKERS: brokers });
  dlqLog = new KafkaEventLog({ kafka: createKafka({ brokers, clientId: `dlq-reader-${fx.runId}` }) });
  await dlqLog.subscribe(
    fx.topic("maas.dlq"),
    `dlq-reader-${fx.runId}`,
    async (ev) => void deadLetters.push(ev),
    {
      fromBeginning: true,
    },
  );
});
afterAll(async () => {
  await dlqLog?.close();
  await fx?.platform.stop();
});

describe("runner on real Kafka", () => {
  it("uses the Kafka event log", () => {
    expect(fx.platform.backends.events).toBe("kafka");
  });

  it("an event produced with kcat reaches the subscriber once as a binary-mode CloudEvent", async () => {
    const kcat = ensureKcat();
    const id = `evt_kcat${fx.runId}`;
    const data = { tenantId: "tnt_kcat", slug: "kcat", name: "From kcat", plan: "free" };
    execFileSync(
      kcat,
      [
        "-P",
        "-b",
        brokers,
        "-t",
        fx.topic("maas.events"),
        "-k",
        "tnt_kcat",
        "-H",
        "ce_specversion=1.0",
        "-H",
        `ce_type=${events.tenantCreated.type}`,
        "-H",
        `ce_id=${id}`,
        "-H",
        "ce_source=/tests/kcat",
        "-H",
        "content-type=application/json",
      ],
      { input: `${JSON.stringify(data)}\n`, timeout: 20_000 },
    );
    const [got] = await until(
      () => recordsFor(fx.records(), id).length > 0 && recordsFor(fx.records(), id),
      "kcat event",
      60_000,
    );
    await sleep(1000);
    expect(recordsFor(fx.records(), id)).toHaveLength(1);
    expect(got!.headers["ce-type"]).toBe(events.tenantCreated.type);
    expect(got!.headers["ce-source"]).toBe("/tests/kcat");
    const received = decodeHttp(got!.headers, got!.body);
    expect(received.data).toEqual(data);
    expect(received.partitionkey).toBe("tnt_kcat");
  });

  it("an event published through the broker ingress is delivered once", async () => {
    const ev = tenantCreated("tnt_kafka1");
    await fx.platform.publish(ev);
    await until(() => recordsFor(fx.records(), ev.id).length > 0, "delivery", 60_000);
    await sleep(1000);
    expect(recordsFor(fx.records(), ev.id)).toHaveLength(1);
  });

  it("a failing handler is retried per the delivery spec, then dead-lettered to maas.dlq", async () => {
    const ev = tenantCreated("tnt_kafka2", 10);
    await fx.platform.publish(ev);
    const dead = await until(
      () => deadLetters.find((d) => d.id === ev.id),
      "dead letter on maas.dlq",
      60_000,
    );
    expect(recordsFor(fx.records(), ev.id).map((r) => r.status)).toEqual([500, 500, 500]);
    expect(dead.knativeerrorcode).toBe("500");
    expect(dead.data).toEqual(ev.data);
  });
});
